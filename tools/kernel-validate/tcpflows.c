// tcpflows: bulk TCP senders with a TCP_INFO sampler, and a discarding sink (one thread each, epoll).
//
//   tcpflows sink PORT
//   tcpflows send DST_IP PORT DURATION_MS INTERVAL_MS OUT_CSV CC:START_MS:SIZE_BYTES[:SRC_IP] ...
//
// With SRC_IP the flow's socket is bound to that address before connect (each flow has its own access link, chosen
// by a source-address policy rule in the sender namespace).
//
// send opens one connection per flow spec at its start (rounded up to the sampling tick), with
// setsockopt(TCP_CONGESTION, CC) before connect (kernel built-ins only: this program never touches BPF), writes
// nonblocking until SIZE_BYTES are written (0 = unlimited), and every INTERVAL_MS (absolute timerfd ticks) writes one
// CSV row of getsockopt(TCP_INFO) per open flow. The tcp_info layout is Linux 6.7+'s (tcpi_total_rto and friends),
// declared here because the distribution's headers may be older. It stops at DURATION_MS.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

struct kv_tcp_info {                       /* include/uapi/linux/tcp.h, Linux 6.7 .. 6.18 */
    uint8_t state, ca_state, retransmits, probes, backoff, options, wscale, app_limited_etc;
    uint32_t rto, ato, snd_mss, rcv_mss;
    uint32_t unacked, sacked, lost, retrans, fackets;
    uint32_t last_data_sent, last_ack_sent, last_data_recv, last_ack_recv;
    uint32_t pmtu, rcv_ssthresh, rtt, rttvar, snd_ssthresh, snd_cwnd, advmss, reordering;
    uint32_t rcv_rtt, rcv_space;
    uint32_t total_retrans;
    uint64_t pacing_rate, max_pacing_rate, bytes_acked, bytes_received;
    uint32_t segs_out, segs_in;
    uint32_t notsent_bytes, min_rtt, data_segs_in, data_segs_out;
    uint64_t delivery_rate;
    uint64_t busy_time, rwnd_limited, sndbuf_limited;
    uint32_t delivered, delivered_ce;
    uint64_t bytes_sent, bytes_retrans;
    uint32_t dsack_dups, reord_seen;
    uint32_t rcv_ooopack;
    uint32_t snd_wnd, rcv_wnd;
    uint32_t rehash;
    uint16_t total_rto, total_rto_recoveries;
    uint32_t total_rto_time;
};

struct flow {
    char cc[16];
    char src[64];
    uint64_t start_ns, size, written;
    int64_t connect_ns, first_send_ns;   /* since t0: connect() called, first byte written (handshake done) */
    int fd, connected, done_writing;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int sink(int port)
{
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 4096) < 0) { perror("tcpflows sink"); return 1; }
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = ls };
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    static char buf[1 << 18];
    fprintf(stderr, "tcpflows: sink listening on %d\n", port);
    fflush(stderr);
    for (;;) {
        struct epoll_event evs[64];
        int n = epoll_wait(ep, evs, 64, -1);
        if (n < 0) { if (errno == EINTR) continue; perror("tcpflows sink: epoll_wait"); return 1; }
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == ls) {
                int c;
                while ((c = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    struct epoll_event cev = { .events = EPOLLIN, .data.fd = c };
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
                }
                continue;
            }
            for (;;) {
                ssize_t r = read(fd, buf, sizeof buf);
                if (r > 0) continue;
                if (r == 0 || (errno != EAGAIN && errno != EINTR)) close(fd);
                break;
            }
        }
    }
}

static void sample(FILE *out, double t, int id, struct flow *f)
{
    struct kv_tcp_info ti;
    memset(&ti, 0, sizeof ti);
    socklen_t len = sizeof ti;
    if (getsockopt(f->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0) return;
    fprintf(out,
            "%.6f,%d,%u,%u,%u,%u,%u,%u,%u,%llu,%u,%u,%llu,%u,%u,%u,%llu,%u,%u,%u,%u,%llu,%u,%llu,%u\n", t, id,
            ti.state, ti.ca_state, ti.snd_cwnd, ti.snd_ssthresh, ti.total_retrans, ti.retrans, ti.lost,
            (unsigned long long)ti.bytes_acked, ti.rtt, ti.min_rtt, (unsigned long long)ti.delivery_rate * 8,
            ti.total_rto, ti.total_rto_recoveries, ti.backoff, (unsigned long long)ti.pacing_rate * 8, ti.unacked,
            ti.sacked, ti.dsack_dups, ti.reord_seen, (unsigned long long)ti.bytes_retrans, ti.snd_mss,
            (unsigned long long)ti.bytes_sent, (unsigned)len);
}

static int open_flow(struct flow *f, const struct sockaddr_in *dst, int ep, uint32_t i, uint64_t t0)
{
    f->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (setsockopt(f->fd, IPPROTO_TCP, TCP_CONGESTION, f->cc, (socklen_t)strlen(f->cc)) < 0) {
        fprintf(stderr, "tcpflows: TCP_CONGESTION %s: %s\n", f->cc, strerror(errno));
        return -1;
    }
    if (f->src[0]) {
        struct sockaddr_in sa = { .sin_family = AF_INET };
        if (inet_pton(AF_INET, f->src, &sa.sin_addr) != 1 || bind(f->fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
            fprintf(stderr, "tcpflows: bind %s: %s\n", f->src, strerror(errno));
            return -1;
        }
    }
    f->connect_ns = (int64_t)(now_ns() - t0);
    if (connect(f->fd, (const struct sockaddr *)dst, sizeof *dst) < 0 && errno != EINPROGRESS) {
        perror("tcpflows: connect");
        return -1;
    }
    struct epoll_event ev = { .events = EPOLLOUT, .data.u32 = i };
    epoll_ctl(ep, EPOLL_CTL_ADD, f->fd, &ev);
    return 0;
}

static int send_flows(int argc, char **argv)
{
    const char *dst = argv[2];
    int port = atoi(argv[3]);
    uint64_t duration_ns = strtoull(argv[4], NULL, 10) * 1000000ull;
    uint64_t interval_ns = strtoull(argv[5], NULL, 10) * 1000000ull;
    FILE *out = fopen(argv[6], "w");
    if (!out) { perror(argv[6]); return 1; }
    int nflows = argc - 7;
    struct flow *flows = calloc((size_t)nflows, sizeof *flows);
    for (int i = 0; i < nflows; i++) {
        unsigned long long start_ms, size;
        char cc[16], src[64] = "";
        int got = sscanf(argv[7 + i], "%15[^:]:%llu:%llu:%63s", cc, &start_ms, &size, src);
        if (got != 3 && got != 4) {
            fprintf(stderr, "tcpflows: bad flow spec %s (CC:START_MS:SIZE_BYTES[:SRC_IP])\n", argv[7 + i]);
            return 2;
        }
        snprintf(flows[i].cc, sizeof flows[i].cc, "%s", cc);
        snprintf(flows[i].src, sizeof flows[i].src, "%s", src);
        flows[i].start_ns = start_ms * 1000000ull;
        flows[i].size = size;
        flows[i].fd = -1;
    }
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    signal(SIGPIPE, SIG_IGN);
    fprintf(out, "t_s,flow,state,ca_state,cwnd,ssthresh,total_retrans,retrans,lost,bytes_acked,rtt_us,min_rtt_us,"
                 "delivery_rate_bps,total_rto,total_rto_recoveries,backoff,pacing_rate_bps,unacked,sacked,dsack_dups,"
                 "reord_seen,bytes_retrans,snd_mss,bytes_sent,info_len\n");

    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    inet_pton(AF_INET, dst, &a.sin_addr);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    uint64_t t0 = now_ns();
    struct itimerspec its = { .it_interval = { .tv_sec = (time_t)(interval_ns / 1000000000ull),
                                               .tv_nsec = (long)(interval_ns % 1000000000ull) },
                              .it_value = { .tv_sec = (time_t)((t0 + interval_ns) / 1000000000ull),
                                            .tv_nsec = (long)((t0 + interval_ns) % 1000000000ull) } };
    timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
    struct epoll_event tev = { .events = EPOLLIN, .data.u32 = 0xffffffffu };
    epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &tev);

    static char buf[1 << 20];
    memset(buf, 'x', sizeof buf);
    uint64_t max_tick_late = 0, ticks = 0, missed = 0;
    for (;;) {
        uint64_t t = now_ns() - t0;
        /* open the flows whose start has come */
        for (int i = 0; i < nflows; i++) {
            struct flow *f = &flows[i];
            if (f->fd >= 0 || f->start_ns > t) continue;
            if (open_flow(f, &a, ep, (uint32_t)i, t0) < 0) return 1;
        }
        if (t >= duration_ns) break;
        struct epoll_event evs[256];
        int n = epoll_wait(ep, evs, 256, 50);
        if (n < 0) { if (errno == EINTR) continue; perror("tcpflows: epoll_wait"); return 1; }
        for (int k = 0; k < n; k++) {
            uint32_t i = evs[k].data.u32;
            if (i == 0xffffffffu) {
                uint64_t exp = 0;
                if (read(tfd, &exp, sizeof exp) > 0) {
                    uint64_t now = now_ns();
                    uint64_t nominal = ((now - t0) / interval_ns) * interval_ns;
                    uint64_t late = now - t0 - nominal;
                    if (late > max_tick_late) max_tick_late = late;
                    ticks++;
                    missed += exp - 1;
                    double ts = (double)(now - t0) / 1e9;
                    for (int j = 0; j < nflows; j++)
                        if (flows[j].fd >= 0) sample(out, ts, j + 1, &flows[j]);
                }
                continue;
            }
            struct flow *f = &flows[i];
            if (f->done_writing) continue;
            uint64_t want = sizeof buf;
            if (f->size && f->size - f->written < want) want = f->size - f->written;
            ssize_t w = send(f->fd, buf, want, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (w > 0) {
                if (!f->written) f->first_send_ns = (int64_t)(now_ns() - t0);
                f->written += (uint64_t)w;
                f->connected = 1;
                if (f->size && f->written >= f->size) {
                    f->done_writing = 1;
                    shutdown(f->fd, SHUT_WR);
                    struct epoll_event ev = { .events = 0, .data.u32 = i };
                    epoll_ctl(ep, EPOLL_CTL_MOD, f->fd, &ev);
                }
            } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
                fprintf(stderr, "tcpflows: flow %u send: %s\n", i + 1, strerror(errno));
                f->done_writing = 1;
                struct epoll_event ev = { .events = 0, .data.u32 = i };
                epoll_ctl(ep, EPOLL_CTL_MOD, f->fd, &ev);
            }
        }
    }
    double ts = (double)(now_ns() - t0) / 1e9;
    for (int j = 0; j < nflows; j++)
        if (flows[j].fd >= 0) sample(out, ts, j + 1, &flows[j]);
    fclose(out);
    fprintf(stderr, "tcpflows: %llu ticks, %llu missed, latest tick %.1f us late\n", (unsigned long long)ticks,
            (unsigned long long)missed, max_tick_late / 1000.0);
    printf("{\"ticks\": %llu, \"missed_ticks\": %llu, \"tick_late_us_max\": %.1f, \"connect_us\": [",
           (unsigned long long)ticks, (unsigned long long)missed, max_tick_late / 1000.0);
    for (int j = 0; j < nflows; j++) printf("%s%.1f", j ? ", " : "", (double)flows[j].connect_ns / 1000.0);
    printf("], \"first_send_us\": [");
    for (int j = 0; j < nflows; j++) printf("%s%.1f", j ? ", " : "", (double)flows[j].first_send_ns / 1000.0);
    printf("]}\n");
    for (int j = 0; j < nflows; j++)
        if (flows[j].fd >= 0) close(flows[j].fd);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "sink") == 0) return sink(atoi(argv[2]));
    if (argc >= 8 && strcmp(argv[1], "send") == 0) return send_flows(argc, argv);
    fprintf(stderr, "usage: tcpflows sink PORT\n"
                    "       tcpflows send DST_IP PORT DURATION_MS INTERVAL_MS OUT_CSV CC:START_MS:SIZE_BYTES[:SRC_IP] ...\n");
    return 2;
}
