namespace BpfSim.Tcp.Net;

/// <summary>Links whose rate, delay and loss change at set times.</summary>
public sealed partial class Network
{
    private readonly List<(Link Link, LinkChange Change, LossModel? Loss)> _changes = [];

    /// <summary>
    /// Changes <paramref name="link"/> at <paramref name="change"/>'s time. A new rate applies from the next packet the
    /// link starts to transmit: the packet on the wire keeps the time it was given, as a netem or tbf qdisc changed
    /// with <c>tc qdisc change</c> keeps the time it computed for a packet already scheduled. A new delay and a new loss
    /// probability apply to the packets the link starts to transmit from then on (a trace-driven link: that it
    /// delivers from then on); a packet never overtakes one that left before it when the delay shrinks.
    /// </summary>
    /// <exception cref="ArgumentException">The change sets the rate of a trace-driven link, or is in the past.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The rate is not positive, the delay negative, or the loss outside [0, 1].</exception>
    public void ScheduleChange(Link link, LinkChange change)
    {
        ArgumentNullException.ThrowIfNull(link);
        if (change.RateBps is { } rate)
        {
            if (link.Trace is not null)
            {
                throw new ArgumentException($"{link.Name} follows the trace {link.Trace.Source}: its rate cannot be changed", nameof(change));
            }
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rate, nameof(change));
        }
        if (change.Delay is { } delay)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(delay.Nanoseconds, nameof(change));
        }
        if (change.At < _sim.Now)
        {
            throw new ArgumentException($"a change at {change.At} is in the past (now {_sim.Now})", nameof(change));
        }
        var loss = change.Loss is { } p ? new BernoulliLoss(p) : null;
        _changes.Add((link, change, loss));
        _sim.Schedule(change.At, _handler, KindChange, _changes.Count - 1);
    }

    private void ApplyChange(int index)
    {
        var (link, change, loss) = _changes[index];
        link.Recorder?.Changing(link, _sim.Now.Nanoseconds);
        if (change.RateBps is { } rate)
        {
            link.RateBps = rate;
        }
        if (change.Delay is { } delay)
        {
            link.Delay = delay;
        }
        if (loss is not null)
        {
            link.Loss = loss;
        }
    }
}
