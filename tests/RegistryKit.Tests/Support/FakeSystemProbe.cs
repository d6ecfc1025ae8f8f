using RegistryKit.Reporting;

namespace RegistryKit.Tests.Support;

/// <summary>A probe with readings the test sets, so collected metrics can be asserted exactly.</summary>
internal sealed class FakeSystemProbe : ISystemProbe
{
    public const long GiB = 1L << 30;

    public int ProcessorCount { get; set; } = 4;

    public TimeSpan ProcessorTime { get; set; }

    public long WorkingSetBytes { get; set; } = 2 * GiB;

    public long MemoryLimitBytes { get; set; } = 8 * GiB;

    /// <summary>The disk reading, or <see langword="null"/> to fail as an unreadable path does.</summary>
    public (long Used, long Total)? Disk { get; set; }

    public List<string> DiskPathsAsked { get; } = [];

    public bool TryGetDiskUsage(string path, out long usedBytes, out long totalBytes)
    {
        DiskPathsAsked.Add(path);
        (usedBytes, totalBytes) = Disk ?? (0, 0);
        return Disk is not null;
    }
}
