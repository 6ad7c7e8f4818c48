using System.Runtime.CompilerServices;
using BpfSim.Core.Simulation;
using BpfSim.Tcp.Tracing;

namespace BpfSim.Tcp.Net;

/// <summary>
/// Links, routes and endpoints over one <see cref="Simulator"/>. A packet follows its route link by link: it joins
/// each link's queue, is transmitted at the link's rate, propagates for the link's delay, then enters the next link
/// or reaches the route's sink. A packet's arrival at the next hop is known when its transmission starts, so that is
/// its only event; a link schedules a transmission-complete event only while packets wait behind the one on the wire
/// (an idle access link costs one event per packet, a busy bottleneck two). Events carry indices, never closures, so
/// forwarding allocates nothing. A trace-driven link delivers at its trace's opportunities instead
/// (<c>Network.TraceLinks.cs</c>), and links may change rate, delay and loss at set times (<c>Network.Changes.cs</c>).
/// </summary>
public sealed partial class Network : IEventHandler
{
    private const int KindTxComplete = 0;
    private const int KindArrival = 1;
    private const int KindWake = 2;
    private const int KindOpportunity = 3;
    private const int KindChange = 4;

    private readonly Simulator _sim;
    private readonly HandlerId _handler;
    private readonly ulong _seed;
    private readonly List<Link> _links = [];
    private readonly HashSet<string> _linkNames = new(StringComparer.Ordinal); // a dumbbell adds 4 links per flow: no linear search
    // Each sink beside what it reads first (IPacketSink.PrefetchTarget) and the link its answer enters: one line
    // holds them for Network.Prefetch.
    private SinkEntry[] _sinks = new SinkEntry[16];

    private struct SinkEntry(IPacketSink sink)
    {
        public readonly IPacketSink Sink = sink;
        public readonly object? Target = sink.PrefetchTarget;
        // The route this sink's owner sends on (a registered flow's other route) and its first link, each plus one; 0
        // if unknown. A TCP endpoint answers an arrival at once (an ACK, or new data), on that route.
        public int ReplyRoute;
        public int ReplyLink;
    }
    private int _sinkCount;
    // Routes are laid out flat: a route is a run of links in _hops, described by one entry of _routes. Forwarding
    // then reads two dense arrays rather than an int[] per route, which at 10,000 flows lay scattered among the flows'
    // other objects and cost a cache miss per hop.
    private readonly RouteTable _routes = new();
    private int[] _hops = new int[64]; // link ids
    private readonly LinkTable _state = new();
    private int _hopCount;

    private BpfSim.Core.Bpf.BpfSystem? _kernel;

    public Network(Simulator sim, ulong seed, int packetCapacity = 4096)
    {
        _sim = sim;
        _seed = seed;
        _handler = sim.Register(this);
        Packets = new PacketPool(packetCapacity);
    }

    public Simulator Simulator => _sim;

    public PacketPool Packets { get; }

    public IReadOnlyList<Link> Links => _links;

    /// <summary>Told of each link as it is added (a topology adds a flow's access links when the flow opens).</summary>
    public event Action<Link>? LinkAdded;

    /// <summary>Told of every drop and mark at a queue and every loss on a wire; null (the default) for none.</summary>
    public ITcpTracer? Tracer { get; set; }

    /// <summary>Adds one direction of a link. Its random stream is derived from the seed and its name.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The rate is not positive or the delay is negative.</exception>
    /// <exception cref="ArgumentException">A link of that name exists.</exception>
    public Link AddLink(string name, long rateBps, SimTime delay, QueueDiscipline queue, LossModel? loss = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rateBps);
        ArgumentOutOfRangeException.ThrowIfNegative(delay.Nanoseconds, nameof(delay));
        ArgumentNullException.ThrowIfNull(queue);
        if (!_linkNames.Add(name))
        {
            throw new ArgumentException($"a link called '{name}' already exists", nameof(name));
        }
        return Add(new Link(_state, name, rateBps, delay, queue, loss ?? LossModel.None, SimRandom.For(_seed, "link:" + name)));
    }

    /// <summary>
    /// Adds one direction of a link that delivers at the opportunities of a Mahimahi <paramref name="trace"/> (from
    /// time 0, looped), as mm-link does, instead of at a fixed rate.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The delay is negative.</exception>
    /// <exception cref="ArgumentException">A link of that name exists.</exception>
    public Link AddLink(string name, DeliveryTrace trace, SimTime delay, QueueDiscipline queue, LossModel? loss = null)
    {
        ArgumentNullException.ThrowIfNull(trace);
        ArgumentOutOfRangeException.ThrowIfNegative(delay.Nanoseconds, nameof(delay));
        ArgumentNullException.ThrowIfNull(queue);
        if (!_linkNames.Add(name))
        {
            throw new ArgumentException($"a link called '{name}' already exists", nameof(name));
        }
        long rate = Math.Max(1, (long)Math.Round(trace.MeanRateBps));
        return Add(new Link(_state, name, rate, delay, queue, loss ?? LossModel.None, SimRandom.For(_seed, "link:" + name), trace));
    }

    private Link Add(Link link)
    {
        link.Queue.Attach(this, link);
        if (link.Queue is DropTailQueue fifo && link.Cursor is null && fifo.Enqueued == 0 && fifo.Drops == 0)
        {
            fifo.BindFifo(_state, link.Id, fifo.LimitPackets, fifo.LimitBytes);
        }
        _links.Add(link);
        LinkAdded?.Invoke(link);
        return link;
    }

    /// <summary>The random stream of a named component of this network (a queue, a workload), from the seed.</summary>
    public SimRandom RandomFor(string component) => SimRandom.For(_seed, component);

    /// <summary>Registers an endpoint and returns its id.</summary>
    public int AddSink(IPacketSink sink)
    {
        if (_sinkCount == _sinks.Length)
        {
            Array.Resize(ref _sinks, _sinks.Length * 2);
        }
        _sinks[_sinkCount] = new SinkEntry(sink);
        return _sinkCount++;
    }

    /// <summary>A route: the links in order, then the sink that receives what arrives.</summary>
    /// <exception cref="ArgumentException">The route has no link.</exception>
    public int AddRoute(IReadOnlyList<Link> links, int sink)
    {
        if (links.Count == 0)
        {
            throw new ArgumentException("a route needs at least one link", nameof(links));
        }
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(sink, _sinkCount);
        while (_hopCount + links.Count > _hops.Length)
        {
            Array.Resize(ref _hops, _hops.Length * 2);
        }
        int id = _routes.Add();
        ref var route = ref _routes[id];
        route.Start = _hopCount;
        route.Length = links.Count;
        route.Sink = sink;
        for (int i = 0; i < links.Count; i++)
        {
            if (i < RouteEntry.NearCount)
            {
                route.Near[i] = links[i].Id;
            }
            _hops[_hopCount++] = links[i].Id;
        }
        return id;
    }

    /// <summary>The sum of propagation delays along a route (no queueing, no serialisation).</summary>
    public SimTime PropagationDelay(int route) => new(RouteLinks(route).Sum(l => l.Delay.Nanoseconds));

    /// <summary>The slowest link's rate along a route (bits per second): the route's bottleneck on an idle network.</summary>
    public long BottleneckRateBps(int route) => RouteLinks(route).Min(l => l.RateBps);

    private IEnumerable<Link> RouteLinks(int route) =>
        new ArraySegment<int>(_hops, _routes[route].Start, _routes[route].Length).Select(id => _links[id]);

    /// <summary>Sends a pooled packet along its <see cref="Packet.Route"/>, starting now.</summary>
    public void Send(int packet)
    {
        ref var p = ref Packets[packet];
        p.Hop = 0;
        Enter(packet, _routes[p.Route].LinkAt(0, _hops));
    }

    /// <summary>
    /// Packet <paramref name="packet"/> reaches the queue of link <paramref name="id"/> now. A plain drop-tail link
    /// (nothing observing it: the access links, most bottlenecks) is run from its record in the table alone, the
    /// packet's hop touching that record, the packet and the FIFO links; any other link through its objects.
    /// </summary>
    private void Enter(int packet, int id)
    {
        long now = _sim.Now.Nanoseconds;
        ref var s = ref _state[id];
        if (!s.IsPlain)
        {
            EnterObserved(packet, LinkAt(id), now);
            return;
        }
        s.Account(s.QueueLength, now);
        ref var p = ref Packets[packet];
        p.EnqueuedNs = now;
        s.PacketsArrived++;
        if (!s.FifoAdmits(p.SizeBytes))
        {
            var link = LinkAt(id);
            link.Queue.CountFifoDrop();
            Tracer?.Queue(now, link, in p, TcpQueueEvent.Drop);
            Packets.Free(packet);
            return;
        }
        s.FifoPush(Packets, packet, p.SizeBytes);
        if (s.QueueLength > s.MaxQueuePackets)
        {
            s.MaxQueuePackets = s.QueueLength;
        }
        // While a transmission-complete event is pending it takes the head of the queue, even if due this instant.
        if ((s.Flags & LinkState.TxPending) == 0)
        {
            if (s.BusyUntil <= now)
            {
                StartPlain(ref s, id, now);
            }
            else
            {
                ScheduleTxComplete(ref s, id);
            }
        }
    }

    /// <summary><see cref="Enter"/> for a link that is not plain: a trace, a tap or recorder, a loss model, another discipline.</summary>
    private void EnterObserved(int packet, Link link, long now)
    {
        link.AccountQueue(now);
        if (link.Cursor is { } cursor)
        {
            // mm-link's read_packet: the link catches up to now before the packet joins, so an opportunity opening at
            // this very instant is not the packet's.
            Rationalize(link, cursor, now);
        }
        Packets[packet].EnqueuedNs = now;
        link.Recorder?.Arrival(link, in Packets[packet], now);
        link.State.PacketsArrived++;
        var queue = link.Queue;
        QueueVerdict verdict;
        if ((link.State.Flags & LinkState.Fifo) != 0)
        {
            ref var s = ref link.State;
            int size = Packets[packet].SizeBytes;
            if (s.FifoAdmits(size))
            {
                s.FifoPush(Packets, packet, size);
                verdict = QueueVerdict.Enqueued;
            }
            else
            {
                queue.CountFifoDrop();
                verdict = QueueVerdict.Dropped;
            }
        }
        else
        {
            // A queue may drop packets it held (fq_codel's batch drop from its fattest flow) as well as the arrival.
            verdict = queue.Enqueue(Packets, packet, now);
        }
        if (verdict == QueueVerdict.Dropped)
        {
            Tracer?.Queue(now, link, in Packets[packet], TcpQueueEvent.Drop);
            link.Recorder?.Drop(link, in Packets[packet], now);
            Packets.Free(packet);
            return;
        }
        if (verdict == QueueVerdict.Marked)
        {
            Tracer?.Queue(now, link, in Packets[packet], TcpQueueEvent.Mark);
        }
        if (queue.Length > link.State.MaxQueuePackets)
        {
            link.State.MaxQueuePackets = queue.Length;
        }
        if (link.Cursor is { } c)
        {
            if (!c.EventPending)
            {
                ScheduleOpportunity(link, c);
            }
            return;
        }
        // While a transmission-complete event is pending it takes the head of the queue, even if due this instant.
        if (!link.TxEventPending)
        {
            if (link.BusyUntil <= now)
            {
                StartObserved(link, now);
            }
            else
            {
                ScheduleTxComplete(ref link.State, link.Id);
            }
        }
    }

    private void ScheduleTxComplete(ref LinkState s, int id)
    {
        s.Flags |= LinkState.TxPending;
        _sim.Schedule(new SimTime(s.BusyUntil), _handler, KindTxComplete, id);
    }

    /// <summary>
    /// Puts the head of a plain link's FIFO on the wire (<see cref="StartObserved"/> without what nothing observes: no
    /// tap or recorder, and a loss model that draws nothing; the link's delay histogram if it records one).
    /// </summary>
    private void StartPlain(ref LinkState s, int id, long now)
    {
        if (s.QueueLength == 0)
        {
            return;
        }
        int packet = s.FifoPop(Packets);
        ref var p = ref Packets[packet];
        if ((s.Flags & LinkState.DelayRecorded) != 0)
        {
            LinkAt(id).DelayRecorder!.Record(now - p.EnqueuedNs);
        }
        int size = p.SizeBytes;
        s.QueueBytes -= size;
        long duration = s.Serialization(size);
        long departure = now + duration;
        s.BusyUntil = departure;
        s.BusyNs += duration;
        s.PacketsSent++;
        s.BytesSent += size;
        long arrival = Math.Max(departure + s.DelayNs, s.LastDeliveryNs);
        s.LastDeliveryNs = arrival;
        _sim.Schedule(new SimTime(arrival), _handler, KindArrival, ArrivalArg(packet, ref p));
        if (s.QueueLength > 0)
        {
            Packets.Prefetch(s.FifoHead(Packets));
            ScheduleTxComplete(ref s, id);
        }
    }

    /// <summary>
    /// Puts the head of the queue on the wire: it arrives at the next hop after serialisation and propagation,
    /// unless the wire loses it (drawn now, in transmission order, from the link's own stream).
    /// </summary>
    private void StartObserved(Link link, long now)
    {
        var queue = link.Queue;
        int packet;
        if ((link.State.Flags & LinkState.Fifo) != 0)
        {
            ref var s = ref link.State;
            if (s.QueueLength == 0)
            {
                return;
            }
            packet = s.FifoPop(Packets);
            s.QueueBytes -= Packets[packet].SizeBytes;
            if (s.QueueLength > 0)
            {
                Packets.Prefetch(s.FifoHead(Packets));
            }
        }
        else
        {
            packet = queue.DequeueToTransmit(Packets, now); // CoDel drops and marks at dequeue
            if (packet < 0)
            {
                if (queue.Length > 0)
                {
                    ScheduleWake(link, queue.NextEligibleNs);
                }
                return;
            }
        }
        ref var p = ref Packets[packet];
        link.DelayRecorder?.Record(now - p.EnqueuedNs);
        long duration = link.SerializationNs(p.SizeBytes);
        link.BusyUntil = now + duration;
        link.State.BusyNs += duration;
        Depart(link, packet, link.BusyUntil);
        if (queue.Length > 0)
        {
            ScheduleTxComplete(ref link.State, link.Id);
        }
    }

    /// <summary>
    /// Packet <paramref name="packet"/> leaves <paramref name="link"/> at <paramref name="departureNs"/>: counted, and
    /// then lost on the wire or sent to the next hop after the link's delay. The loss is drawn now, in departure order,
    /// from the link's own stream. A packet never reaches the next hop before one that left earlier (which matters
    /// only once a change shortens the delay).
    /// </summary>
    private void Depart(Link link, int packet, long departureNs)
    {
        ref var p = ref Packets[packet];
        link.State.PacketsSent++;
        link.State.BytesSent += p.SizeBytes;
        link.Tap?.Departing(link, in p, in Packets.SacksOf(packet), departureNs);
        link.Recorder?.Departure(link, in p, departureNs);
        if (link.Loss.Lose(link.Random))
        {
            link.Stats.RandomLosses++;
            Tracer?.Queue(_sim.Now.Nanoseconds, link, in p, TcpQueueEvent.WireLoss);
            Packets.Free(packet);
            return;
        }
        ref var s = ref link.State;
        long arrival = Math.Max(departureNs + s.DelayNs, s.LastDeliveryNs);
        s.LastDeliveryNs = arrival;
        _sim.Schedule(new SimTime(arrival), _handler, KindArrival, ArrivalArg(packet, ref p));
    }

    /// <summary>
    /// An arrival event's argument: the packet's index in the low 32 bits and, above, where it goes next on its route,
    /// known at departure while the packet and its route are in the caches: the next link's id + 1, or −(sink + 1)
    /// at the end of the route; the packet's <see cref="Packet.Hop"/> moves on now rather than at the arrival. The
    /// handler then reads the next link's record and the packet independently, where reading the route from the
    /// packet made them misses in a row. 0 above (the hop unchanged) for a packet off its route or a network whose
    /// interfaces run hooks (<see cref="Arrive"/> reads the hop it came over).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long ArrivalArg(int packet, ref Packet p)
    {
        if (p.Via != 0 || _kernel is not null)
        {
            return packet;
        }
        ref readonly var route = ref _routes[p.Route];
        int next = ++p.Hop;
        long where = next < route.Length ? route.LinkAt(next, _hops) + 1L : -(route.Sink + 1L);
        return (where << 32) | (uint)packet;
    }

    /// <summary>
    /// The queue holds packets but none may leave before <paramref name="at"/> (sch_fq's throttled flows): arm a
    /// wake-up then, as fq arms its qdisc watchdog, unless one is armed no later. A wake-up made stale by an earlier
    /// one finds the transmitter busy or the queue's answer unchanged, and costs one event.
    /// </summary>
    private void ScheduleWake(Link link, long at)
    {
        if (at == long.MaxValue || at >= link.WakeAtNs)
        {
            return;
        }
        link.WakeAtNs = at;
        _sim.Schedule(new SimTime(at), _handler, KindWake, link.Id);
    }

    void IEventHandler.OnEvent(int kind, long arg)
    {
        if (kind == KindTxComplete)
        {
            int id = (int)arg;
            ref var s = ref _state[id];
            s.Flags &= ~LinkState.TxPending;
            long now = _sim.Now.Nanoseconds;
            if (s.IsPlain)
            {
                s.Account(s.QueueLength, now);
                StartPlain(ref s, id, now);
            }
            else
            {
                var link = LinkAt(id);
                link.AccountQueue(now);
                StartObserved(link, now);
            }
            return;
        }
        if (kind == KindWake)
        {
            var link = LinkAt(arg);
            long now = _sim.Now.Nanoseconds;
            if (link.WakeAtNs <= now)
            {
                link.WakeAtNs = long.MaxValue;
            }
            if (!link.TxEventPending && link.BusyUntil <= now)
            {
                link.AccountQueue(now);
                StartObserved(link, now);
            }
            return;
        }
        if (kind == KindOpportunity)
        {
            OnOpportunity(LinkAt(arg));
            return;
        }
        if (kind == KindChange)
        {
            ApplyChange((int)arg);
            return;
        }
        int index = (int)arg;
        int where = (int)(arg >> 32); // see ArrivalArg
        if (_kernel is not null)
        {
            if (where != 0)
            {
                Packets[index].Hop--; // it left before the kernel was attached: Arrive moves it on itself
            }
            Arrive(index); // interfaces are net devices: hooks may run (Network.Hooks.cs)
            return;
        }
        if (where > 0)
        {
            Enter(index, where - 1);
            return;
        }
        if (where < 0)
        {
            _sinks[-where - 1].Sink.Receive(index);
            return;
        }
        ref var p = ref Packets[index];
        ref readonly var route = ref _routes[p.Route];
        if (++p.Hop < route.Length)
        {
            Enter(index, route.LinkAt(p.Hop, _hops));
        }
        else
        {
            _sinks[route.Sink].Sink.Receive(index);
        }
    }

    /// <summary>The link of an event's argument: the list's backing array, without the indexer's call.</summary>
    private Link LinkAt(long id) => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_links)[(int)id];

    /// <summary>Closes the queue-length integrals at the current time, before reading link statistics.</summary>
    public void FinishAccounting()
    {
        long now = _sim.Now.Nanoseconds;
        foreach (var link in _links)
        {
            link.AccountQueue(now);
            if (link.Cursor is { } cursor)
            {
                Rationalize(link, cursor, now); // the opportunities of an idle trace-driven link count in its capacity
            }
        }
    }
}
