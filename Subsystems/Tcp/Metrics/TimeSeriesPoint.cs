namespace BpfSim.Tcp.Metrics;

/// <summary>One row of a tidy time series: time, subject (a flow id or a link name), metric, value and its unit.</summary>
public readonly record struct TimeSeriesPoint(double TimeSeconds, string Subject, string Metric, double Value, string Unit);
