using System.Runtime.InteropServices;

namespace BpfSim.Tcp.Stack;

/// <summary>
/// <c>struct minmax</c> (include/linux/win_minmax.h, lib/win_minmax.c): Kathleen Nichols' windowed min/max tracker.
/// It keeps the best, second-best and third-best samples of a window, each no older than the one before, so the
/// extreme over the last <c>win</c> time units is known in constant space and time. 24 bytes, as in the kernel;
/// tp->rtt_min and BBR's bandwidth filter are both one.
/// </summary>
/// <remarks>
/// Times and the window are u32 and compared by unsigned difference, so they may wrap as jiffies and round counts do.
/// </remarks>
[StructLayout(LayoutKind.Sequential)]
public struct Minmax
{
    /// <summary>s[0]: the current best sample (the windowed extreme).</summary>
    public MinmaxSample S0;

    /// <summary>s[1]: the best sample taken after s[0]'s time.</summary>
    public MinmaxSample S1;

    /// <summary>s[2]: the best sample taken after s[1]'s time.</summary>
    public MinmaxSample S2;

    /// <summary>minmax_get: the windowed extreme.</summary>
    public readonly uint Get() => S0.V;

    /// <summary>minmax_reset: forget everything; <paramref name="meas"/> at <paramref name="t"/> is all three choices.</summary>
    /// <returns>The new extreme, <paramref name="meas"/>.</returns>
    public uint Reset(uint t, uint meas)
    {
        S0 = new MinmaxSample { T = t, V = meas };
        S1 = S0;
        S2 = S0;
        return S0.V;
    }

    /// <summary>minmax_running_max: adds a sample to a windowed-max filter of length <paramref name="win"/>.</summary>
    /// <returns>The windowed maximum after the update.</returns>
    public uint RunningMax(uint win, uint t, uint meas)
    {
        var val = new MinmaxSample { T = t, V = meas };
        if (val.V >= S0.V || val.T - S2.T > win)
        {
            return Reset(t, meas); // a new max, or nothing left in the window
        }
        if (val.V >= S1.V)
        {
            S2 = S1 = val;
        }
        else if (val.V >= S2.V)
        {
            S2 = val;
        }
        return SubwinUpdate(win, val);
    }

    /// <summary>minmax_running_min: adds a sample to a windowed-min filter of length <paramref name="win"/>.</summary>
    /// <returns>The windowed minimum after the update.</returns>
    public uint RunningMin(uint win, uint t, uint meas)
    {
        var val = new MinmaxSample { T = t, V = meas };
        if (val.V <= S0.V || val.T - S2.T > win)
        {
            return Reset(t, meas);
        }
        if (val.V <= S1.V)
        {
            S2 = S1 = val;
        }
        else if (val.V <= S2.V)
        {
            S2 = val;
        }
        return SubwinUpdate(win, val);
    }

    /// <summary>
    /// minmax_subwin_update: age the choices. When the best is older than the window, promote the second and third
    /// (twice if need be); a quarter or half window without a new second or third choice takes the new sample as it,
    /// so the three stay spread across the window.
    /// </summary>
    private uint SubwinUpdate(uint win, MinmaxSample val)
    {
        uint dt = val.T - S0.T;
        if (dt > win)
        {
            S0 = S1;
            S1 = S2;
            S2 = val;
            if (val.T - S0.T > win)
            {
                S0 = S1;
                S1 = S2;
                S2 = val;
            }
        }
        else if (S1.T == S0.T && dt > win / 4)
        {
            S2 = S1 = val;
        }
        else if (S2.T == S1.T && dt > win / 2)
        {
            S2 = val;
        }
        return S0.V;
    }
}
