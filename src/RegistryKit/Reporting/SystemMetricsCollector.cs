namespace RegistryKit.Reporting;

/// <summary>
/// Samples this process's processors, CPU load, memory and the disk of a configured path, as PowerJob's worker does
/// for its health reports.
/// </summary>
/// <remarks>
/// <para>
/// The CPU load is the process's CPU time used between two samples divided by the time between them, as measured
/// by the <see cref="TimeProvider"/>: the first sample has none to compare with and reports
/// <see cref="SystemMetrics.UnknownCpuLoad"/>. PowerJob reports the machine's load average instead, which a
/// container shares with its neighbours.
/// </para>
/// <para>
/// Memory and processors are the runtime's own figures, which honour a container's cgroup limits; the cgroup files
/// are not read here. <see cref="Collect"/> never throws for a disk path that is missing or unreadable: the disk
/// figures are <see langword="null"/> instead.
/// </para>
/// </remarks>
public sealed class SystemMetricsCollector
{
    private readonly Lock _lock = new();
    private readonly ISystemProbe _probe;
    private readonly TimeProvider _timeProvider;
    private bool _hasSample;
    private long _lastTimestamp;
    private TimeSpan _lastProcessorTime;
    private double _lastLoad = SystemMetrics.UnknownCpuLoad;

    /// <summary>Creates a collector of this process's metrics.</summary>
    /// <param name="diskPath">A path whose file system's usage is reported, such as the data directory; <see langword="null"/> for none.</param>
    /// <param name="timeProvider">The clock the CPU load is measured against; <see langword="null"/> for the system clock.</param>
    /// <exception cref="ArgumentException"><paramref name="diskPath"/> is empty or white space.</exception>
    public SystemMetricsCollector(string? diskPath = null, TimeProvider? timeProvider = null)
        : this(SystemProbe.Instance, diskPath, timeProvider)
    {
    }

    internal SystemMetricsCollector(ISystemProbe probe, string? diskPath, TimeProvider? timeProvider)
    {
        ArgumentNullException.ThrowIfNull(probe);
        if (diskPath is not null)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(diskPath);
        }

        _probe = probe;
        _timeProvider = timeProvider ?? TimeProvider.System;
        DiskPath = diskPath;
    }

    /// <summary>Gets the path whose file system's usage is reported, or <see langword="null"/> for none.</summary>
    public string? DiskPath { get; }

    /// <summary>Takes a sample. Safe to call from several threads; each call is measured against the previous one.</summary>
    /// <returns>The sample.</returns>
    public SystemMetrics Collect()
    {
        long? diskUsed = null;
        long? diskTotal = null;
        if (DiskPath is not null && _probe.TryGetDiskUsage(DiskPath, out long used, out long total))
        {
            diskUsed = used;
            diskTotal = total;
        }

        return new SystemMetrics
        {
            ProcessorCount = _probe.ProcessorCount,
            CpuLoad = SampleCpuLoad(),
            MemoryUsedBytes = _probe.WorkingSetBytes,
            MemoryLimitBytes = _probe.MemoryLimitBytes,
            DiskUsedBytes = diskUsed,
            DiskTotalBytes = diskTotal,
        };
    }

    private double SampleCpuLoad()
    {
        lock (_lock)
        {
            long now = _timeProvider.GetTimestamp();
            TimeSpan processorTime = _probe.ProcessorTime;
            if (_hasSample)
            {
                TimeSpan elapsed = _timeProvider.GetElapsedTime(_lastTimestamp, now);

                // Two samples at the same instant have no interval to divide by: the previous load stands, and the
                // next sample is measured from the earlier one.
                if (elapsed <= TimeSpan.Zero)
                {
                    return _lastLoad;
                }

                _lastLoad = Math.Max(0, (processorTime - _lastProcessorTime).Ticks / (double)elapsed.Ticks);
            }

            _hasSample = true;
            _lastTimestamp = now;
            _lastProcessorTime = processorTime;
            return _lastLoad;
        }
    }
}
