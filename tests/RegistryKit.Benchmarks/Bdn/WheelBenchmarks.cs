using BenchmarkDotNet.Attributes;
using RegistryKit.Testing;
using RegistryKit.Timers;

namespace RegistryKit.Benchmarks.Bdn;

/// <summary>The wheel's hot paths beside System.Threading.Timer and Task.Delay.</summary>
[MemoryDiagnoser]
public class WheelBenchmarks
{
    private const int Batch = 1024;
    private static readonly TimeSpan s_delay = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan s_tick = TimeSpan.FromMilliseconds(10);
    private static readonly TimerCallback s_nothing = static _ => { };
    private readonly ITimerTask _task = new NoOpTask();
    private readonly WheelTimeout[] _handles = new WheelTimeout[Batch];
    private HashedWheelTimer _timer = null!;
    private ManualTimeProvider _clock = null!;
    private HashedWheelTimer _manualTimer = null!;

    [GlobalSetup]
    public void Setup()
    {
        _timer = new HashedWheelTimer(TimeProvider.System);
        _clock = new ManualTimeProvider();
        _manualTimer = new HashedWheelTimer(_clock);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _timer.Dispose();
        _manualTimer.Dispose();
    }

    /// <summary>Schedule a timeout 5 s ahead and cancel it at once (a warm pool: no allocation).</summary>
    [Benchmark]
    public bool ScheduleCancel() => _timer.NewTimeout(_task, s_delay).Cancel();

    /// <summary>Schedule 1,024 timeouts, then cancel them: per timeout, one schedule and one cancel with 1,024 pending.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public void ScheduleCancelBatch()
    {
        for (int i = 0; i < Batch; i++)
        {
            _handles[i] = _timer.NewTimeout(_task, s_delay);
        }

        for (int i = 0; i < Batch; i++)
        {
            _handles[i].Cancel();
        }
    }

    /// <summary>Schedule 1,024 timeouts one tick ahead on a manual clock and expire them: per timeout, schedule plus expiry and run.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public void ScheduleExpire()
    {
        for (int i = 0; i < Batch; i++)
        {
            _manualTimer.NewTimeout(_task, s_tick);
        }

        _clock.Advance(s_tick);
    }

    /// <summary>The baseline: a System.Threading.Timer created and disposed.</summary>
    [Benchmark]
    public void TimerCreateDispose() => new Timer(s_nothing, null, s_delay, Timeout.InfiniteTimeSpan).Dispose();

    /// <summary>The other baseline: a cancellable Task.Delay, cancelled (the task is not returned: BenchmarkDotNet would await it and throw).</summary>
    [Benchmark]
    public void TaskDelayCancel()
    {
        using var source = new CancellationTokenSource();
        _ = Task.Delay(s_delay, source.Token);
        source.Cancel();
    }

    private sealed class NoOpTask : ITimerTask
    {
        public void Run(WheelTimeout timeout)
        {
        }
    }
}
