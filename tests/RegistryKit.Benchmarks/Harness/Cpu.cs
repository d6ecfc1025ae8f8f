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

    /// <summary>
    /// Process CPU over <paramref name="window"/>, read by a thread of its own that sleeps through it, so that the only
    /// wake-up the measurement adds is that thread's, at the end. Awaiting Task.Delay instead wakes the timer thread and
    /// a thread-pool worker (often a new one: idle workers exit after 20 s), which cost about 3 ms of CPU here: 0.03 % of
    /// a 10 s window, three times the idle goal. The thread first waits a second, so that starting it is not counted.
    /// </summary>
    /// <param name="window">How long to measure.</param>
    /// <param name="atStart">Reads the workload's own counters just before the window opens.</param>
    /// <param name="atEnd">Reads them again just after it closes.</param>
    public static (TimeSpan CpuTime, TimeSpan WallTime) QuietWindow(TimeSpan window, Action? atStart = null, Action? atEnd = null)
    {
        (TimeSpan, TimeSpan) result = default;
        var thread = new Thread(() =>
        {
            Thread.Sleep(TimeSpan.FromSeconds(1));
            atStart?.Invoke();
            var cpu = Start();
            Thread.Sleep(window);
            result = (cpu.CpuTime, cpu.WallTime);
            atEnd?.Invoke();
        })
        {
            Name = "harness window",
        };
        thread.Start();
        thread.Join();
        return result;
    }
}
