using System.Diagnostics;
using RegistryKit.Timers;

namespace RegistryKit.Benchmarks.Harness;

/// <summary>
/// The wheel's workloads of issue 10, each beside System.Threading.Timer (<c>/timer</c>) and Task.Delay (<c>/delay</c>)
/// where the comparison means something. All on the system clock, on a wheel of Netty's shape: 10 ms × 512, as issue 10
/// asks (RegistryKit's default has 8,192 buckets; the size changes nothing in these workloads but the first touch of a
/// bucket).
/// </summary>
internal static class WheelWorkloads
{
    private static HashedWheelTimer NettyShapedWheel() =>
        new(TimeProvider.System, new HashedWheelTimerOptions { TickDuration = TimeSpan.FromMilliseconds(10), WheelSize = 512 });

    private static readonly TimerCallback s_nothing = static _ => { };
    private static readonly ITimerTask s_noOpTask = new NoOpTask();

    /// <summary>Schedules <paramref name="count"/> timeouts with delays uniform in 1–10 s, then cancels them all.</summary>
    public static void Schedule(int count)
    {
        TimeSpan[] delays = Delays(count);
        WarmUp(delays);

        // The handles array is the harness's, not the wheel's: its pages are touched before the clock starts, so that the
        // kernel's first-touch faults on 24 MB of it are not counted against each schedule.
        var handles = new WheelTimeout[count];
        Array.Fill(handles, default);
        using (var timer = NettyShapedWheel())
        {
            // A fresh timer has no pooled nodes: every pending timeout needs one, and that node is its retained cost.
            long heap = GC.GetTotalMemory(forceFullCollection: true);
            long allocated = GC.GetAllocatedBytesForCurrentThread();
            int gen0 = GC.CollectionCount(0), gen1 = GC.CollectionCount(1), gen2 = GC.CollectionCount(2);
            TimeSpan paused = GC.GetTotalPauseDuration();
            double scheduleNs = ScheduleEach(timer, handles, delays, count);
            double gcPauseNs = (GC.GetTotalPauseDuration() - paused).TotalNanoseconds / count;
            (gen0, gen1, gen2) = (GC.CollectionCount(0) - gen0, GC.CollectionCount(1) - gen1, GC.CollectionCount(2) - gen2);
            double allocPerOp = (double)(GC.GetAllocatedBytesForCurrentThread() - allocated) / count;
            double heapPerTimeout = (double)(GC.GetTotalMemory(forceFullCollection: true) - heap) / count;

            double cancelNs = CancelEach(handles, count);

            // Scheduling again once the pool is warm: as many timeouts as the pool holds (or the workload's count).
            int pooled = (int)Math.Min(count, HashedWheelTimerPoolLimit);
            allocated = GC.GetAllocatedBytesForCurrentThread();
            ScheduleEach(timer, handles, delays, pooled);
            double pooledAllocPerOp = (double)(GC.GetAllocatedBytesForCurrentThread() - allocated) / pooled;
            CancelEach(handles, pooled);

            // The same again on a second fresh wheel, in heap the first one's nodes (garbage now) had touched: what a
            // schedule costs in a process that has been running, without the kernel's first-touch faults on new heap
            // (a page fault per 4 KiB, 73 nodes).
            timer.Dispose();
            double warmHeapNs = WarmHeapSchedule(handles, delays);

            Report.Result(
                "wheel-schedule",
                ("timeouts", count),
                ("ns_per_op", scheduleNs),
                ("warm_heap_ns_per_op", warmHeapNs),
                ("alloc_bytes_per_op", allocPerOp),
                ("heap_bytes_per_timeout", heapPerTimeout),
                ("cancel_ns_per_op", cancelNs),
                ("pooled_alloc_bytes_per_op", pooledAllocPerOp),

                // The collections during the schedule loop (every node survives them) and their pauses, per schedule.
                ("gc_pause_ns_per_op", gcPauseNs),
                ("gen0_gcs", gen0),
                ("gen1_gcs", gen1),
                ("gen2_gcs", gen2));
        }

        handles = [];
        var timers = new Timer[count];
        (double ns, double alloc, double heapPer) = MeasureSchedule(count, i => timers[i] = new Timer(s_nothing, null, delays[i], Timeout.InfiniteTimeSpan));
        double disposeNs = MeasureLoop(count, i => timers[i].Dispose());
        Report.Result("wheel-schedule/timer", ("timeouts", count), ("ns_per_op", ns), ("alloc_bytes_per_op", alloc), ("heap_bytes_per_timeout", heapPer), ("cancel_ns_per_op", disposeNs));
        timers = [];

        var sources = new CancellationTokenSource[count];
        var tasks = new Task[count];
        (ns, alloc, heapPer) = MeasureSchedule(count, i =>
        {
            sources[i] = new CancellationTokenSource();
            tasks[i] = Task.Delay(delays[i], sources[i].Token);
        });
        double cancelDelayNs = MeasureLoop(count, i => sources[i].Cancel());
        Report.Result("wheel-schedule/delay", ("timeouts", count), ("ns_per_op", ns), ("alloc_bytes_per_op", alloc), ("heap_bytes_per_timeout", heapPer), ("cancel_ns_per_op", cancelDelayNs));
        GC.KeepAlive(tasks);
    }

    private static double WarmHeapSchedule(WheelTimeout[] handles, TimeSpan[] delays)
    {
        // The old handles would keep the first wheel's nodes alive.
        Array.Clear(handles);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var timer = NettyShapedWheel();
        double ns = ScheduleEach(timer, handles, delays, handles.Length);
        CancelEach(handles, handles.Length);
        return ns;
    }

    /// <summary>Schedules the first <paramref name="count"/> timeouts, each with its delay; returns the nanoseconds per schedule.</summary>
    private static double ScheduleEach(HashedWheelTimer timer, WheelTimeout[] handles, TimeSpan[] delays, int count)
    {
        long started = Stopwatch.GetTimestamp();
        for (int i = 0; i < count; i++)
        {
            handles[i] = timer.NewTimeout(s_noOpTask, delays[i]);
        }

        return Stopwatch.GetElapsedTime(started).TotalNanoseconds / count;
    }

    /// <summary>Cancels the first <paramref name="count"/> handles; returns the nanoseconds per cancel.</summary>
    private static double CancelEach(WheelTimeout[] handles, int count)
    {
        long started = Stopwatch.GetTimestamp();
        for (int i = 0; i < count; i++)
        {
            handles[i].Cancel();
        }

        return Stopwatch.GetElapsedTime(started).TotalNanoseconds / count;
    }

    /// <summary>Schedules a timeout and cancels it at once, <paramref name="pairs"/> times.</summary>
    public static void ScheduleCancel(int pairs)
    {
        TimeSpan[] delays = Delays(1024);
        using (var timer = NettyShapedWheel())
        {
            // A direct loop (no delegate) for the wheel, whose figure is held against the goal. Two warm-up rounds,
            // each followed by a pause for tiered compilation, then the measured one.
            for (int round = 0; round < 3; round++)
            {
                if (round > 0)
                {
                    WaitForTieredCompilation();
                }

                int n = round < 2 ? Math.Min(pairs, 100_000) : pairs;
                long allocated = GC.GetAllocatedBytesForCurrentThread();
                long started = Stopwatch.GetTimestamp();
                for (int i = 0; i < n; i++)
                {
                    timer.NewTimeout(s_noOpTask, delays[i & 1023]).Cancel();
                }

                double ns = Stopwatch.GetElapsedTime(started).TotalNanoseconds / n;
                double alloc = (double)(GC.GetAllocatedBytesForCurrentThread() - allocated) / n;
                if (round == 2)
                {
                    Report.Result("wheel-schedcancel", ("pairs", pairs), ("ns_per_pair", ns), ("alloc_bytes_per_pair", alloc));
                }
            }
        }

        // The baselines go through a delegate: about 1–2 ns per pair more than a direct loop.
        Action<int> systemTimer = i => new Timer(s_nothing, null, delays[i & 1023], Timeout.InfiniteTimeSpan).Dispose();
        Action<int> delay = i =>
        {
            using var source = new CancellationTokenSource();
            _ = Task.Delay(delays[i & 1023], source.Token);
            source.Cancel();
        };

        foreach ((string name, Action<int> pair) in new[] { ("wheel-schedcancel/timer", systemTimer), ("wheel-schedcancel/delay", delay) })
        {
            _ = MeasureLoop(Math.Min(pairs, 100_000), pair);
            long allocated = GC.GetAllocatedBytesForCurrentThread();
            double ns = MeasureLoop(pairs, pair);
            double alloc = (double)(GC.GetAllocatedBytesForCurrentThread() - allocated) / pairs;
            Report.Result(name, ("pairs", pairs), ("ns_per_pair", ns), ("alloc_bytes_per_pair", alloc));
        }
    }

    /// <summary><paramref name="count"/> timeouts due after <paramref name="delay"/>: how late each runs.</summary>
    public static void Lateness(int count, TimeSpan delay)
    {
        using (var timer = NettyShapedWheel())
        {
            // Three rounds warm up the JIT and the pool, each followed by a pause long enough for the runtime to install
            // the optimised code it compiles in the background (tiered compilation waits 100 ms); the fourth is
            // measured. With a single small warm-up round, the wheel thread ran the measured round in unoptimised
            // code and fell behind the schedule (a profile showed Invoke and the probe still QuickJitted).
            const int WarmUpRounds = 3;
            for (int round = 0; round <= WarmUpRounds; round++)
            {
                Probe[] probes = Probe.Create(round < WarmUpRounds ? Math.Min(count, 20_000) : count, delay);
                foreach (Probe probe in probes)
                {
                    probe.Scheduled = Stopwatch.GetTimestamp();
                    timer.NewTimeout(probe, delay);
                }

                if (round == WarmUpRounds)
                {
                    Probe.Print("wheel-lateness", probes);
                }
                else
                {
                    Probe.Wait(probes);
                    WaitForTieredCompilation();
                }
            }
        }

        var timers = new Timer[count];
        Probe[] timerProbes = Probe.Create(count, delay);
        for (int i = 0; i < count; i++)
        {
            Probe probe = timerProbes[i];
            probe.Scheduled = Stopwatch.GetTimestamp();
            timers[i] = new Timer(static state => ((Probe)state!).Fire(), probe, delay, Timeout.InfiniteTimeSpan);
        }

        Probe.Print("wheel-lateness/timer", timerProbes);
        foreach (Timer t in timers)
        {
            t.Dispose();
        }

        Probe[] delayProbes = Probe.Create(count, delay);
        foreach (Probe probe in delayProbes)
        {
            probe.Scheduled = Stopwatch.GetTimestamp();
            _ = Task.Delay(delay).ContinueWith(static (_, state) => ((Probe)state!).Fire(), probe, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        Probe.Print("wheel-lateness/delay", delayProbes);
    }

    /// <summary>
    /// Process CPU while nothing is pending: an empty process (<c>/none</c>), a used wheel with nothing pending, and
    /// one System.Threading.Timer ticking every 10 ms doing nothing (<c>/timer</c>, what a wheel that wakes every tick,
    /// such as Netty's, costs at least).
    /// </summary>
    public static async Task IdleAsync(TimeSpan window, TimeSpan settle)
    {
        // Start-up work (tiered JIT recompiles, the first GCs) must be over before any window opens.
        await Task.Delay(settle);
        double noneCpu = Percent(Cpu.QuietWindow(window));

        using (var timer = NettyShapedWheel())
        {
            using var fired = new ManualResetEventSlim();
            timer.NewTimeout(_ => fired.Set(), TimeSpan.FromMilliseconds(10));
            timer.NewTimeout(s_noOpTask, TimeSpan.FromSeconds(1)).Cancel();
            fired.Wait();
            await Task.Delay(settle);
            WakeUpThread wakeUp = timer.WakeUpThread!;
            long wakeUps = wakeUp.WakeUps;
            (TimeSpan cpu, TimeSpan wall) = Cpu.QuietWindow(window);
            Report.Result(
                "wheel-idle",
                ("seconds", wall.TotalSeconds),
                ("cpu_pct_of_core", Percent((cpu, wall))),
                ("cpu_ms", cpu.TotalMilliseconds),
                ("wakeups", wakeUp.WakeUps - wakeUps),
                ("wakeup_thread_running", wakeUp.IsThreadRunning ? 1 : 0));
        }

        Report.Result("wheel-idle/none", ("seconds", window.TotalSeconds), ("cpu_pct_of_core", noneCpu));

        long ticks = 0;
        using (var ticking = new Timer(_ => Interlocked.Increment(ref ticks), null, TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(10)))
        {
            await Task.Delay(settle);
            long before = Interlocked.Read(ref ticks);
            (TimeSpan cpu, TimeSpan wall) = Cpu.QuietWindow(window);
            Report.Result("wheel-idle/timer", ("seconds", wall.TotalSeconds), ("cpu_pct_of_core", Percent((cpu, wall))), ("wakeups", Interlocked.Read(ref ticks) - before));
        }
    }

    private static double Percent((TimeSpan Cpu, TimeSpan Wall) window) => window.Cpu.TotalSeconds / window.Wall.TotalSeconds * 100;

    /// <summary>The wheel's node pool limit (HashedWheelTimerDefaults.NodePoolLimit is internal).</summary>
    private const int HashedWheelTimerPoolLimit = 65_536;

    private static TimeSpan[] Delays(int count)
    {
        var random = new Random(42);
        var delays = new TimeSpan[count];
        for (int i = 0; i < count; i++)
        {
            delays[i] = TimeSpan.FromSeconds(1) + TimeSpan.FromTicks(random.NextInt64(TimeSpan.FromSeconds(9).Ticks + 1));
        }

        return delays;
    }

    /// <summary>Runs every schedule and cancel path on a throwaway timer so that the measured one runs tier-1 code.</summary>
    private static void WarmUp(TimeSpan[] delays)
    {
        int n = Math.Min(delays.Length, 200_000);
        var handles = new WheelTimeout[n];
        using var timer = NettyShapedWheel();
        for (int round = 0; round < 3; round++)
        {
            for (int i = 0; i < n; i++)
            {
                handles[i] = timer.NewTimeout(s_noOpTask, delays[i]);
            }

            for (int i = 0; i < n; i++)
            {
                handles[i].Cancel();
            }

            WaitForTieredCompilation();
        }
    }

    /// <summary>
    /// Tiered compilation installs optimised code from a background thread after a 100 ms delay; a measured loop that
    /// starts right after its warm-up may run the first part unoptimised.
    /// </summary>
    private static void WaitForTieredCompilation() => Thread.Sleep(TimeSpan.FromMilliseconds(300));

    private static (double Ns, double Alloc, double HeapPerItem) MeasureSchedule(int count, Action<int> schedule)
    {
        _ = MeasureLoop(Math.Min(count, 1000), schedule);
        long heap = GC.GetTotalMemory(forceFullCollection: true);
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        double ns = MeasureLoop(count, schedule);
        double alloc = (double)(GC.GetAllocatedBytesForCurrentThread() - allocated) / count;
        double heapPer = (double)(GC.GetTotalMemory(forceFullCollection: true) - heap) / count;
        return (ns, alloc, heapPer);
    }

    private static double MeasureLoop(int count, Action<int> body)
    {
        long started = Stopwatch.GetTimestamp();
        for (int i = 0; i < count; i++)
        {
            body(i);
        }

        return Stopwatch.GetElapsedTime(started).TotalNanoseconds / count;
    }

    private sealed class NoOpTask : ITimerTask
    {
        public void Run(WheelTimeout timeout)
        {
        }
    }

    /// <summary>One timeout of the lateness workload: when it was scheduled and when it ran.</summary>
    private sealed class Probe(Probe.Countdown countdown, TimeSpan delay) : ITimerTask
    {
        public long Scheduled;
        private long _fired;

        public static Probe[] Create(int count, TimeSpan delay)
        {
            var countdown = new Countdown(count);
            var probes = new Probe[count];
            for (int i = 0; i < count; i++)
            {
                probes[i] = new Probe(countdown, delay);
            }

            return probes;
        }

        public static void Wait(Probe[] probes)
        {
            if (probes.Length > 0 && !probes[0].CountdownEvent.Wait(TimeSpan.FromSeconds(60)))
            {
                throw new TimeoutException($"Only {probes.Count(p => p._fired != 0)} of {probes.Length} timeouts ran within 60 s.");
            }
        }

        public static void Print(string name, Probe[] probes)
        {
            Wait(probes);
            double[] late = [.. probes.Select(p => Stopwatch.GetElapsedTime(p.Scheduled, p._fired).TotalMilliseconds - p.Delay.TotalMilliseconds).Order()];
            Report.Result(
                name,
                ("timeouts", late.Length),
                ("p50_ms", late[late.Length / 2]),
                ("p99_ms", late[Math.Min(late.Length - 1, (int)(late.Length * 0.99))]),
                ("max_ms", late[^1]),
                ("early", late.Count(l => l < 0)),

                // Where the lateness comes from: how long scheduling them all took, and how long running them all took.
                ("schedule_span_ms", Stopwatch.GetElapsedTime(probes.Min(p => p.Scheduled), probes.Max(p => p.Scheduled)).TotalMilliseconds),
                ("run_span_ms", Stopwatch.GetElapsedTime(probes.Min(p => p._fired), probes.Max(p => p._fired)).TotalMilliseconds));
        }

        private TimeSpan Delay { get; } = delay;

        private ManualResetEventSlim CountdownEvent => countdown.Done;

        public void Run(WheelTimeout timeout) => Fire();

        public void Fire()
        {
            _fired = Stopwatch.GetTimestamp();
            countdown.Signal();
        }

        internal sealed class Countdown(int count)
        {
            private int _left = count;

            public ManualResetEventSlim Done { get; } = new(count == 0);

            public void Signal()
            {
                if (Interlocked.Decrement(ref _left) == 0)
                {
                    Done.Set();
                }
            }
        }
    }
}
