using System.Security;

namespace RegistryKit.Reporting;

/// <summary>Reads the real process: the runtime's own figures, which already honour container limits.</summary>
internal sealed class SystemProbe : ISystemProbe
{
    public static readonly SystemProbe Instance = new();

    private SystemProbe()
    {
    }

    public int ProcessorCount => Environment.ProcessorCount;

    public TimeSpan ProcessorTime => Environment.CpuUsage.TotalTime;

    public long WorkingSetBytes => Environment.WorkingSet;

    // The runtime derives this from the cgroup (v1 or v2) memory limit, GCHeapHardLimit and physical memory, so the
    // cgroup files are not parsed here a second time.
    public long MemoryLimitBytes => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    public bool TryGetDiskUsage(string path, out long usedBytes, out long totalBytes)
    {
        usedBytes = 0;
        totalBytes = 0;
        try
        {
            string fullPath = Path.GetFullPath(path);
            if (!Directory.Exists(fullPath) && !File.Exists(fullPath))
            {
                return false;
            }

            // On Unix a DriveInfo asks statvfs about its name, which may be any path on the file system; Windows
            // wants the drive's root.
            var drive = new DriveInfo(OperatingSystem.IsWindows() ? Path.GetPathRoot(fullPath)! : fullPath);
            totalBytes = drive.TotalSize;
            usedBytes = totalBytes - drive.TotalFreeSpace;
            return totalBytes > 0;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or ArgumentException or SecurityException or NotSupportedException)
        {
            return false;
        }
    }
}
