using System.Diagnostics;

namespace RegistryKit.Benchmarks.Harness;

/// <summary>
/// Process CPU over wall time. The harness may read the wall clock; the library may not.
/// </summary>
/// <remarks>
/// CPU comes from <see cref="Environment.CpuUsage"/> (getrusage on Linux, microseconds) rather than
/// <see cref="Process.TotalProcessorTime"/>, which reads /proc/self/stat in 10 ms clock ticks: over a 10 s window that
/// is 0.1 % of a core, ten times coarser than the idle goal of 0.01 %.
/// </remarks>
internal readonly struct Cpu
{
    private readonly TimeSpan _cpu;
    private readonly long _wall;

    private Cpu(TimeSpan cpu, long wall)
    {
        _cpu = cpu;
        _wall = wall;
    }

    public static Cpu Start() => new(Environment.CpuUsage.TotalTime, Stopwatch.GetTimestamp());

    /// <summary>The CPU time since <see cref="Start"/>.</summary>
    public TimeSpan CpuTime => Environment.CpuUsage.TotalTime - _cpu;

    public TimeSpan WallTime => Stopwatch.GetElapsedTime(_wall);

    /// <summary>CPU time as a percentage of one core over the wall time since <see cref="Start"/>.</summary>
    public double PercentOfCore() => CpuTime.TotalSeconds / WallTime.TotalSeconds * 100;
}
