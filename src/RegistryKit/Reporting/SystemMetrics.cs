namespace RegistryKit.Reporting;

/// <summary>One sample of this process's resources, as <see cref="SystemMetricsCollector.Collect"/> takes it.</summary>
public readonly record struct SystemMetrics
{
    /// <summary>The <see cref="CpuLoad"/> of a sample that has nothing to compare with (the first one).</summary>
    public const double UnknownCpuLoad = -1;

    private const double BytesPerGibibyte = 1L << 30;

    /// <summary>Gets the number of processors this process may use (container CPU limits honoured, as <see cref="Environment.ProcessorCount"/>).</summary>
    public int ProcessorCount { get; init; }

    /// <summary>
    /// Gets how many processors' worth of CPU time this process used since the previous sample (1.5 is one and a half
    /// cores busy), or <see cref="UnknownCpuLoad"/> when it is not known yet.
    /// </summary>
    public double CpuLoad { get; init; }

    /// <summary>Gets the memory this process uses: its working set, in bytes.</summary>
    public long MemoryUsedBytes { get; init; }

    /// <summary>
    /// Gets the memory this process may use, in bytes: the runtime's own view
    /// (<see cref="GCMemoryInfo.TotalAvailableMemoryBytes"/>), which honours a container's cgroup memory limit and a
    /// configured <c>GCHeapHardLimit</c>.
    /// </summary>
    public long MemoryLimitBytes { get; init; }

    /// <summary>Gets the bytes used on the file system that holds the configured path, or <see langword="null"/> when no path is configured or it cannot be read.</summary>
    public long? DiskUsedBytes { get; init; }

    /// <summary>Gets the size in bytes of the file system that holds the configured path, or <see langword="null"/> when no path is configured or it cannot be read.</summary>
    public long? DiskTotalBytes { get; init; }

    /// <summary>Gets the score of this sample, as <see cref="ComputeScore"/> gives it.</summary>
    public int Score => ComputeScore(MemoryLimitBytes, MemoryUsedBytes, ProcessorCount, CpuLoad);

    /// <summary>
    /// Ranks a worker for a server that picks the best one, with PowerJob's formula:
    /// <c>(int)((limit GiB − used GiB) × 2 + (processors − load))</c>. Free memory counts twice as much as idle
    /// processors; the disk does not count.
    /// </summary>
    /// <remarks>
    /// When the load is unknown (negative), the CPU part is 1, as PowerJob does when it cannot read a load. The sum
    /// is truncated toward zero, and a worker that uses more than its limit or more processors than it has may score
    /// below zero. Example: an 8 GiB limit, 2 GiB used, 4 processors and a load of 1.5 give
    /// (8 − 2) × 2 + (4 − 1.5) = 14.5, so 14.
    /// </remarks>
    /// <param name="memoryLimitBytes">The memory the process may use.</param>
    /// <param name="memoryUsedBytes">The memory the process uses.</param>
    /// <param name="processorCount">The processors the process may use.</param>
    /// <param name="cpuLoad">The processors' worth of CPU time in use, or a negative value when unknown.</param>
    /// <returns>The score; higher is better.</returns>
    public static int ComputeScore(long memoryLimitBytes, long memoryUsedBytes, int processorCount, double cpuLoad)
    {
        double memoryPart = (memoryLimitBytes - memoryUsedBytes) / BytesPerGibibyte * 2;
        double cpuPart = cpuLoad < 0 ? 1 : processorCount - cpuLoad;
        return (int)(memoryPart + cpuPart);
    }
}
