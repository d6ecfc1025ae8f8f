using System.Diagnostics;
using RegistryKit.Registry;
using RegistryKit.Timers;
using RegistryKit.Transport;

namespace RegistryKit.Benchmarks.Harness;

/// <summary>
/// N sessions each heartbeating every P against a no-op transport. <c>heartbeat</c> drives N real registries
/// (<see cref="RegistryFactory"/> → FailbackRegistry, one session each, every beat through the engine's fixed-rate path
/// on the factory's one wheel); <c>heartbeat-timer</c> gives each session its own System.Threading.Timer instead.
/// </summary>
internal static class HeartbeatWorkload
{
    private static readonly RegistrySession s_session = new("timer", TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(5));

    /// <summary>Runs <paramref name="sessions"/> registries heartbeating every <paramref name="period"/>.</summary>
    /// <param name="sessions">How many registries, one session each.</param>
    /// <param name="period">The heartbeat interval.</param>
    /// <param name="window">How long to measure.</param>
    /// <param name="settle">How long to wait after the first period before measuring.</param>
    /// <param name="tick">The wheel's tick; <see langword="null"/> for the factory's own wheel (the defaults, 10 ms).</param>
    /// <param name="wheelSize">The wheel's buckets; <see langword="null"/> for the factory's own (the default).</param>
    public static async Task RunAsync(int sessions, TimeSpan period, TimeSpan window, TimeSpan settle, TimeSpan? tick = null, int? wheelSize = null)
    {
        var transport = new NoOpTransport(period);
        var options = new RegistryOptions
        {
            CacheEnabled = false,
            HeartbeatInterval = period,
            SessionTtl = period * 3,
        };
        // The factory's wheel as it would make it (the defaults, unless a tick is given) on the system clock, so with its
        // own wake-up thread, whose wake-ups it counts.
        var defaults = new HashedWheelTimerOptions();
        using var wheel = new HashedWheelTimer(TimeProvider.System, new HashedWheelTimerOptions { TickDuration = tick ?? defaults.TickDuration, WheelSize = wheelSize ?? defaults.WheelSize });
        var factory = new RegistryFactory([new("noop", transport)], options, timer: wheel);
        long heap = GC.GetTotalMemory(forceFullCollection: true);

        // Sessions are opened evenly over one period, as a fleet's would be, so that beats do not come in one burst.
        // With check on (the default) GetRegistryAsync opens the session and arms its first beat.
        var elapsed = Stopwatch.StartNew();
        for (int i = 0; i < sessions; i++)
        {
            if ((i & 255) == 0)
            {
                TimeSpan due = period * ((double)i / sessions);
                if (due - elapsed.Elapsed > TimeSpan.FromMilliseconds(1))
                {
                    await Task.Delay(due - elapsed.Elapsed);
                }
            }

            _ = await factory.GetRegistryAsync(ServiceUrl.Parse($"noop://127.0.0.1:2379/r{i}"));
        }

        double setupSeconds = elapsed.Elapsed.TotalSeconds;
        double heapPerSession = (double)(GC.GetTotalMemory(forceFullCollection: true) - heap) / sessions;

        // Every session has beaten at least once (the beat path is warm) before the window opens.
        TimeSpan wait = period + settle - elapsed.Elapsed;
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait);
        }

        Measure((tick, wheelSize) switch
        {
            (null, null) => "heartbeat",
            _ => $"heartbeat/tick{(tick ?? defaults.TickDuration).TotalMilliseconds:0}ms-wheel{wheel.WheelSize}",
        }, sessions, period, window, () => transport.KeepAlives, heapPerSession, setupSeconds, () => wheel.WakeUpThread!.WakeUps);

        // Disposing a million registries takes a while and is not what this measures; the process ends anyway.
        if (sessions <= 200_000)
        {
            await factory.DisposeAsync();
        }
    }

    /// <summary>
    /// The wheel alone: one timeout per session that re-arms itself every <paramref name="period"/> (from the instant it
    /// ran) and calls the same no-op keep-alive. What Netty's figure measures; the difference from <c>heartbeat</c> is
    /// the engine.
    /// </summary>
    public static async Task RunWheelAsync(int sessions, TimeSpan period, TimeSpan window, TimeSpan settle, TimeSpan? tick = null)
    {
        var transport = new NoOpTransport(period);
        var defaults = new HashedWheelTimerOptions();
        using var wheel = new HashedWheelTimer(TimeProvider.System, new HashedWheelTimerOptions { TickDuration = tick ?? defaults.TickDuration });
        (WheelBeat[] beats, double setupSeconds, double heapPerSession) = await SetUpSessionsAsync(
            sessions, period, settle, i => new WheelBeat(wheel, transport, period, period * ((double)i / sessions)));
        Measure(tick is null ? "heartbeat-wheel" : $"heartbeat-wheel/tick{tick.Value.TotalMilliseconds:0}ms", sessions, period, window, () => transport.KeepAlives, heapPerSession, setupSeconds, () => wheel.WakeUpThread!.WakeUps);
        GC.KeepAlive(beats);
    }

    public static async Task RunTimersAsync(int sessions, TimeSpan period, TimeSpan window, TimeSpan settle)
    {
        var transport = new NoOpTransport(period);

        // The first due times spread the sessions evenly over one period, as for the wheel.
        (Timer[] timers, double setupSeconds, double heapPerSession) = await SetUpSessionsAsync(
            sessions, period, settle, i => new Timer(static state => _ = ((NoOpTransport)state!).KeepAliveAsync(s_session, CancellationToken.None), transport, period * ((double)i / sessions), period));
        Measure("heartbeat-timer", sessions, period, window, () => transport.KeepAlives, heapPerSession, setupSeconds);
        foreach (Timer timer in timers)
        {
            await timer.DisposeAsync();
        }
    }

    /// <summary>
    /// Makes one <typeparamref name="T"/> per session, timing the set-up and measuring the heap it took per session, then
    /// waits until every session has fired once and the runtime has settled.
    /// </summary>
    private static async Task<(T[] Items, double SetupSeconds, double HeapPerSession)> SetUpSessionsAsync<T>(int sessions, TimeSpan period, TimeSpan settle, Func<int, T> create)
    {
        long heap = GC.GetTotalMemory(forceFullCollection: true);
        var clock = Stopwatch.StartNew();
        var items = new T[sessions];
        for (int i = 0; i < sessions; i++)
        {
            items[i] = create(i);
        }

        double setupSeconds = clock.Elapsed.TotalSeconds;
        double heapPerSession = (double)(GC.GetTotalMemory(forceFullCollection: true) - heap) / sessions;
        TimeSpan wait = period + settle - clock.Elapsed;
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait);
        }

        return (items, setupSeconds, heapPerSession);
    }

    private static void Measure(string name, int sessions, TimeSpan period, TimeSpan window, Func<long> fires, double heapPerSession, double setupSeconds, Func<long>? wakeUps = null)
    {
        // Garbage of the set-up must not be collected inside the window.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        int gen0 = 0, gen2 = 0;
        long allocated = 0, firesBefore = 0, wakeUpsBefore = 0;
        long allocatedBytes = 0, fired = 0, wakeUpsAfter = 0;
        (TimeSpan cpuTime, TimeSpan wallTime) = Cpu.QuietWindow(
            window,
            atStart: () =>
            {
                gen0 = GC.CollectionCount(0);
                gen2 = GC.CollectionCount(2);
                allocated = GC.GetTotalAllocatedBytes(precise: true);
                firesBefore = fires();
                wakeUpsBefore = wakeUps?.Invoke() ?? 0;
            },
            atEnd: () =>
            {
                fired = fires() - firesBefore;
                wakeUpsAfter = wakeUps?.Invoke() ?? 0;
                allocatedBytes = GC.GetTotalAllocatedBytes(precise: true) - allocated;
            });
        double cpuSeconds = cpuTime.TotalSeconds;
        double wall = wallTime.TotalSeconds;
        double wakeUpsPerSecond = (wakeUpsAfter - wakeUpsBefore) / wall;
        Report.Result(
            name,
            ("sessions", sessions),
            ("period_ms", period.TotalMilliseconds),
            ("fires_per_sec", fired / wall),
            ("expected_fires_per_sec", sessions / period.TotalSeconds),
            ("cpu_pct_of_core", cpuSeconds / wall * 100),
            ("cpu_us_per_fire", fired == 0 ? 0 : cpuSeconds * 1e6 / fired),

            // The window sees the sessions opened in one slice of the set-up, which a GC pause can bunch; this is the
            // same cost per fire at exactly N / P fires a second.
            ("cpu_pct_at_nominal_rate", fired == 0 ? 0 : cpuSeconds / fired * sessions / period.TotalSeconds * 100),
            ("alloc_bytes_per_fire", fired == 0 ? 0 : (double)allocatedBytes / fired),
            ("wakeups_per_sec", wakeUpsPerSecond),
            ("gen0_gcs", GC.CollectionCount(0) - gen0),
            ("gen2_gcs", GC.CollectionCount(2) - gen2),
            ("heap_bytes_per_session", heapPerSession),
            ("setup_s", setupSeconds),
            ("window_s", wall));
    }

    private sealed class WheelBeat : ITimerTask
    {
        private readonly HashedWheelTimer _wheel;
        private readonly NoOpTransport _transport;
        private readonly TimeSpan _period;

        public WheelBeat(HashedWheelTimer wheel, NoOpTransport transport, TimeSpan period, TimeSpan first)
        {
            _wheel = wheel;
            _transport = transport;
            _period = period;
            _wheel.NewTimeout(this, first);
        }

        public void Run(WheelTimeout timeout)
        {
            _wheel.NewTimeout(this, _period, Stopwatch.GetTimestamp());
            _ = _transport.KeepAliveAsync(s_session, CancellationToken.None);
        }
    }
}
