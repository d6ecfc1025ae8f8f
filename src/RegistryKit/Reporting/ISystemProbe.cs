namespace RegistryKit.Reporting;

/// <summary>Where <see cref="SystemMetricsCollector"/> reads the process's resources; tests replace it with fixed readings.</summary>
internal interface ISystemProbe
{
    int ProcessorCount { get; }

    /// <summary>Gets the CPU time this process has used since it started, user and kernel together.</summary>
    TimeSpan ProcessorTime { get; }

    long WorkingSetBytes { get; }

    long MemoryLimitBytes { get; }

    /// <summary>Reads the file system that holds <paramref name="path"/>; <see langword="false"/> when it cannot. Never throws.</summary>
    bool TryGetDiskUsage(string path, out long usedBytes, out long totalBytes);
}
