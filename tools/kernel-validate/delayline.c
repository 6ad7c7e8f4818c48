// delayline: a user-space constant-delay line on a TUN device (the kernel here has no netem).
//
//   delayline TUN_NAME DELAY_US STATS_FILE
//
// Attaches to an existing (persistent) TUN device, holds every packet the kernel routes into it for DELAY_US
// microseconds and writes it back into the same device, where the kernel receives it as if it arrived on TUN_NAME and
// forwards it. The delay is constant, so the line is a FIFO. Timing: each packet is stamped with CLOCK_MONOTONIC when
// read; the head's release time arms an absolute timerfd (hrtimer, timer slack set to 1 ns, SCHED_FIFO if allowed), so
// nothing busy-waits. On SIGTERM/SIGINT it writes a JSON line of statistics to STATS_FILE: packets, drops (ring full or
// write errors), and how late packets left against their due time (mean, p99, max in µs).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define SLOTS 16384          /* a power of two; 24 ms of ACKs at 1 Gbit/s of data is ~2000 packets */
#define SLOT_BYTES 2048      /* the TUN MTU is 1500 and there is no vnet header: no GSO packets arrive here */
#define LATE_BUCKETS 10000   /* lateness histogram, 1 µs buckets, the last one holds everything later */

static unsigned char ring[SLOTS][SLOT_BYTES];
static uint16_t ring_len[SLOTS];
static uint64_t ring_due[SLOTS];
static uint64_t late_hist[LATE_BUCKETS];
static volatile sig_atomic_t stop;

static void on_signal(int sig) { (void)sig; stop = 1; }

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: delayline TUN_NAME DELAY_US STATS_FILE\n");
        return 2;
    }
    const char *name = argv[1];
    uint64_t delay_ns = strtoull(argv[2], NULL, 10) * 1000ull;
    const char *stats_path = argv[3];

    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) { perror("delayline: /dev/net/tun"); return 1; }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) { perror("delayline: TUNSETIFF"); return 1; }

    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (tfd < 0) { perror("delayline: timerfd_create"); return 1; }

    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    struct sched_param sp = { .sched_priority = 10 };
    int fifo = sched_setscheduler(0, SCHED_FIFO, &sp) == 0;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    uint64_t head = 0, tail = 0;                 /* ring indices, tail - head packets held */
    uint64_t packets = 0, drops_full = 0, write_errors = 0, late_sum_ns = 0, late_max_ns = 0, max_held = 0;
    uint64_t armed_for = 0;

    fprintf(stderr, "delayline: %s delay %llu us, SCHED_FIFO %s\n", name, (unsigned long long)(delay_ns / 1000),
            fifo ? "on" : "off");
    fflush(stderr);

    while (!stop) {
        struct pollfd pfd[2] = { { .fd = fd, .events = POLLIN }, { .fd = tfd, .events = POLLIN } };
        int n = poll(pfd, 2, 200);
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("delayline: poll");
            break;
        }
        if (pfd[1].revents & POLLIN) {
            uint64_t expirations;
            if (read(tfd, &expirations, sizeof expirations) < 0 && errno != EAGAIN) perror("delayline: timerfd read");
            armed_for = 0;
        }
        if (pfd[0].revents & POLLIN) {
            for (;;) {
                unsigned char *slot = ring[tail & (SLOTS - 1)];
                if (tail - head == SLOTS) {      /* ring full: read into a scratch slot and drop */
                    static unsigned char scratch[SLOT_BYTES];
                    if (read(fd, scratch, sizeof scratch) < 0) break;
                    drops_full++;
                    continue;
                }
                ssize_t len = read(fd, slot, SLOT_BYTES);
                if (len < 0) {
                    if (errno != EAGAIN && errno != EINTR) perror("delayline: read");
                    break;
                }
                ring_len[tail & (SLOTS - 1)] = (uint16_t)len;
                ring_due[tail & (SLOTS - 1)] = now_ns() + delay_ns;
                tail++;
                if (tail - head > max_held) max_held = tail - head;
            }
        }
        uint64_t now = now_ns();
        while (head != tail && ring_due[head & (SLOTS - 1)] <= now) {
            uint64_t i = head & (SLOTS - 1);
            uint64_t late = now - ring_due[i];
            if (write(fd, ring[i], ring_len[i]) != ring_len[i]) write_errors++;
            packets++;
            late_sum_ns += late;
            if (late > late_max_ns) late_max_ns = late;
            uint64_t b = late / 1000;
            late_hist[b < LATE_BUCKETS ? b : LATE_BUCKETS - 1]++;
            head++;
            now = now_ns();
        }
        if (head != tail && armed_for != ring_due[head & (SLOTS - 1)]) {
            uint64_t due = ring_due[head & (SLOTS - 1)];
            struct itimerspec its = { .it_value = { .tv_sec = (time_t)(due / 1000000000ull),
                                                     .tv_nsec = (long)(due % 1000000000ull) } };
            if (timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0) perror("delayline: timerfd_settime");
            armed_for = due;
        }
    }

    uint64_t p99 = 0, seen = 0;
    for (int b = 0; b < LATE_BUCKETS; b++) {
        seen += late_hist[b];
        if (packets > 0 && seen * 100 >= packets * 99) { p99 = (uint64_t)b + 1; break; }
    }
    FILE *f = fopen(stats_path, "w");
    if (f) {
        fprintf(f,
                "{\"packets\": %llu, \"held_at_end\": %llu, \"drops_ring_full\": %llu, \"write_errors\": %llu, "
                "\"late_us_mean\": %.2f, \"late_us_p99\": %llu, \"late_us_max\": %.1f, \"max_held\": %llu, "
                "\"sched_fifo\": %s}\n",
                (unsigned long long)packets, (unsigned long long)(tail - head), (unsigned long long)drops_full,
                (unsigned long long)write_errors, packets ? late_sum_ns / 1000.0 / packets : 0.0,
                (unsigned long long)p99, late_max_ns / 1000.0, (unsigned long long)max_held,
                fifo ? "true" : "false");
        fclose(f);
    }
    return 0;
}
