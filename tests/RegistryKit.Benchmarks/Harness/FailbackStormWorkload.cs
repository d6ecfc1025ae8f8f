using System.Globalization;
using RegistryKit.Registry;
using RegistryKit.Testing;
using RegistryKit.Transport;

namespace RegistryKit.Benchmarks.Harness;

/// <summary>
/// One registry holding N registrations; the registry goes down for a while (every call fails, transiently), and when
/// it comes back the sessions opened before are gone (their TTL ran out), so everything must be registered again.
/// </summary>
/// <remarks>
/// Virtual time: a <see cref="ManualTimeProvider"/> advanced in 10 ms steps (one tick of the wheel). Times in the
/// results (<c>converge_ms</c>, the 100 ms windows) are virtual; the CPU figure is the real CPU the outage cost,
/// divided by the outage's virtual length, which is what the same work would cost spread over that time.
/// </remarks>
internal static class FailbackStormWorkload
{
    private static readonly TimeSpan s_step = TimeSpan.FromMilliseconds(10);

    public static async Task RunAsync(int registrations, TimeSpan outage)
    {
        var clock = new ManualTimeProvider();
        var transport = new StormTransport(clock, TimeSpan.FromSeconds(5));
        var options = new RegistryOptions { CacheEnabled = false, SessionTtl = TimeSpan.FromSeconds(15) };
        await using var factory = new RegistryFactory([new("storm", transport)], options, clock);
        IRegistry registry = await factory.GetRegistryAsync(ServiceUrl.Parse("storm://127.0.0.1:2379/"));
        for (int i = 0; i < registrations; i++)
        {
            await registry.RegisterAsync(ServiceUrl.Create("tri", "10.0.0.7", 20000 + (i % 40000), "com.example.Service" + i.ToString(CultureInfo.InvariantCulture)));
        }

        // Steady state first: a few heartbeats.
        Advance(clock, TimeSpan.FromSeconds(20));

        long callsBefore = transport.Calls;
        transport.GoDown();
        var cpu = Cpu.Start();
        Advance(clock, outage);
        TimeSpan outageCpu = cpu.CpuTime;
        long outageCalls = transport.Calls - callsBefore;

        transport.ComeBack();
        long upAt = clock.GetTimestamp();
        TimeSpan limit = TimeSpan.FromMinutes(30);
        cpu = Cpu.Start();
        while (transport.Registered < registrations || registry.GetStatus().PendingRetries.Total != 0)
        {
            if (clock.GetElapsedTime(upAt) > limit)
            {
                throw new TimeoutException($"After {limit} of virtual time only {transport.Registered} of {registrations} registrations are back.");
            }

            clock.Advance(s_step);
        }

        double convergeMs = clock.GetElapsedTime(upAt).TotalMilliseconds;
        Report.Result(
            "failback-storm",
            ("registrations", registrations),
            ("outage_s", outage.TotalSeconds),
            ("converge_ms", convergeMs),
            ("calls", transport.Calls - callsBefore),
            ("outage_calls", outageCalls),
            ("max_calls_per_100ms", transport.MaxCallsPer100Ms(sinceCall: callsBefore)),
            ("outage_cpu_pct_of_core", outageCpu.TotalSeconds / outage.TotalSeconds * 100),
            ("outage_cpu_ms", outageCpu.TotalMilliseconds),
            ("recovery_cpu_ms", cpu.CpuTime.TotalMilliseconds),
            ("session_recoveries", registry.GetStatus().SessionRecoveries));
    }

    private static void Advance(ManualTimeProvider clock, TimeSpan duration)
    {
        for (TimeSpan done = TimeSpan.Zero; done < duration; done += s_step)
        {
            clock.Advance(s_step);
        }
    }

    /// <summary>
    /// A registry that can be down. Counts every call in 100 ms windows of the manual clock. Called only from the thread
    /// that advances the clock (the transport completes every call at once), so it needs no lock.
    /// </summary>
    private sealed class StormTransport(ManualTimeProvider clock, TimeSpan heartbeatInterval) : IRegistryTransport, IRegistryTransportFactory
    {
        private static readonly long s_window = TimeSpan.FromMilliseconds(100).Ticks;
        private readonly HashSet<string> _liveSessions = [];
        private readonly HashSet<ServiceUrl> _registered = [];
        private readonly List<(long Window, long FirstCall)> _windows = [];
        private readonly Dictionary<long, int> _callsPerWindow = [];
        private bool _down;
        private int _sessions;

        public long Calls { get; private set; }

        public int Registered => _registered.Count;

        public IRegistryTransport CreateTransport(ServiceUrl registryUrl) => this;

        public void GoDown() => _down = true;

        /// <summary>Back up, as a registry whose sessions expired meanwhile: nothing registered, no session known.</summary>
        public void ComeBack()
        {
            _down = false;
            _liveSessions.Clear();
            _registered.Clear();
        }

        public int MaxCallsPer100Ms(long sinceCall)
        {
            int max = 0;
            foreach ((long window, long firstCall) in _windows)
            {
                if (firstCall >= sinceCall)
                {
                    max = Math.Max(max, _callsPerWindow[window]);
                }
            }

            return max;
        }

        public ValueTask<RegistrySession> OpenSessionAsync(TimeSpan ttl, CancellationToken cancellationToken)
        {
            Call();
            var session = new RegistrySession("s" + (++_sessions).ToString(CultureInfo.InvariantCulture), ttl, heartbeatInterval);
            _liveSessions.Add(session.Id);
            return new(session);
        }

        public ValueTask KeepAliveAsync(RegistrySession session, CancellationToken cancellationToken)
        {
            Call();
            CheckSession(session);
            return default;
        }

        public ValueTask CloseSessionAsync(RegistrySession session, CancellationToken cancellationToken)
        {
            Call();
            _liveSessions.Remove(session.Id);
            return default;
        }

        public ValueTask RegisterAsync(RegistrySession session, ServiceUrl url, CancellationToken cancellationToken)
        {
            Call();
            CheckSession(session);
            _registered.Add(url);
            return default;
        }

        public ValueTask UnregisterAsync(RegistrySession session, ServiceUrl url, CancellationToken cancellationToken)
        {
            Call();
            _registered.Remove(url);
            return default;
        }

        public ValueTask<IAsyncDisposable> WatchAsync(ServiceUrl subscription, ITransportWatcher watcher, CancellationToken cancellationToken) =>
            throw new NotSupportedException("The storm workload does not subscribe.");

        public ValueTask<TransportSnapshot> LookupAsync(ServiceUrl subscription, CancellationToken cancellationToken) =>
            throw new NotSupportedException("The storm workload does not look up.");

        public ValueTask DisposeAsync() => default;

        private void Call()
        {
            Calls++;
            long window = clock.GetTimestamp() / s_window;
            if (_callsPerWindow.TryGetValue(window, out int count))
            {
                _callsPerWindow[window] = count + 1;
            }
            else
            {
                _callsPerWindow[window] = 1;
                _windows.Add((window, Calls - 1));
            }

            if (_down)
            {
                throw new RegistryTransportException("The registry is down (failback-storm workload).", isTransient: true);
            }
        }

        private void CheckSession(RegistrySession session)
        {
            if (!_liveSessions.Contains(session.Id))
            {
                throw new RegistrySessionLostException($"The registry no longer knows {session}.");
            }
        }
    }
}
