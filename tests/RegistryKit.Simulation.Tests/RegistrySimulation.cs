using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using RegistryKit.InMemory;
using RegistryKit.Registry;
using RegistryKit.Testing;
using RegistryKit.Timers;

namespace RegistryKit.Simulation.Tests;

/// <summary>
/// One seeded run: several registry clients against the in-memory registry, a weighted random workload, faults from
/// the seed's <see cref="FaultPlan"/>, then the invariants. The seed decides the workload, the faults, every client's
/// retry jitter and how far the clock moves, so a seed replays the same run.
/// </summary>
/// <remarks>
/// Phases: a safety phase of <see cref="Steps"/> workload steps with faults on; a liveness phase with faults off and
/// partitions healed, which lasts <see cref="ConvergenceBound"/>; a stability phase of two more session TTLs; then every
/// client stops. Invariants are checked along the way and at the end (see docs/reliability.md).
/// </remarks>
internal sealed class RegistrySimulation
{
    public const int Clients = 3;
    public const int Services = 3;
    public const int Ports = 3;
    public const int Steps = 60;

    /// <summary>The registry client's settings in the simulation: short, so a run covers many sessions and retries.</summary>
    public static readonly RegistryOptions Options = new()
    {
        SessionTtl = TimeSpan.FromSeconds(10),
        RetryPeriod = TimeSpan.FromSeconds(1),
        MaxRetryDelay = TimeSpan.FromSeconds(5),
        RetryJitter = 0.2,
        Check = false,
        CacheEnabled = false,
    };

    /// <summary>The wheel's tick: every retry and heartbeat is late by at most this much.</summary>
    public static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// How long after the faults stop the registry must hold exactly the live clients' intents:
    /// a crashed client's session outlives it by one TTL; a pending retry waits at most the longest backoff with jitter,
    /// and may be put off once more by the concurrent-retry limit (half a retry period); a lost session is noticed at
    /// the next heartbeat (a third of the TTL here); a delayed request lands within the longest delay; and the wheel
    /// adds a tick to each wait.
    /// </summary>
    public static readonly TimeSpan ConvergenceBound =
        Options.SessionTtl
        + (Options.MaxRetryDelay * (1 + Options.RetryJitter))
        + (Options.RetryPeriod / 2)
        + (Options.SessionTtl / 3)
        + FaultPlan.MaxDelay
        + (Tick * 4);

    /// <summary>SIMULATION_LOGS=0 leaves the clients' logs out of a trace (logging changes the timing a little).</summary>
    private static readonly bool s_withoutLogs = Environment.GetEnvironmentVariable("SIMULATION_LOGS") == "0";

    private static readonly ServiceUrl s_address = ServiceUrl.Parse("memory:///sim?application=sim");

    private readonly int _seed;
    private readonly Random _random;
    private readonly FaultPlan _plan;
    private readonly ManualTimeProvider _time = new();
    private readonly CallTracker _calls = new();
    private readonly SimulationClock _clock;
    private readonly InMemoryRegistryServer _server;
    private readonly GroundTruth _truth;
    private readonly HashedWheelTimer _wheel;
    private readonly SimClient?[] _clients = new SimClient?[Clients];
    private readonly List<SimListener> _allListeners = [];
    private readonly List<(Task Task, string What)> _operations = [];
    private readonly List<(Task Task, string Who)> _disposals = [];
    private readonly List<string> _violations = [];
    private readonly IncrementalHash _trace = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private int _incarnations;

    /// <summary>Gets or sets where the trace's lines go besides the hash (SIMULATION_TRACE in a replay).</summary>
    public TextWriter? TraceWriter { get; set; }

    public RegistrySimulation(int seed)
    {
        _seed = seed;
        _random = new Random(seed);
        _plan = new FaultPlan(seed);
        _clock = new SimulationClock(_time, _calls);
        _server = new InMemoryRegistryServer(_time);
        _truth = new GroundTruth(_server);
        _wheel = new HashedWheelTimer(_time, new HashedWheelTimerOptions { TickDuration = Tick, WheelSize = 256 });
    }

    public static async Task<SimulationResult> RunAsync(int seed, TextWriter? trace = null)
    {
        var simulation = new RegistrySimulation(seed) { TraceWriter = trace };
        return await simulation.RunAsync();
    }

    private async Task<SimulationResult> RunAsync()
    {
        try
        {
            // Work the previous seed left running (a disposal finishing, a listener being told) finishes first, so it
            // cannot share this seed's first moments.
            await _clock.SettleAsync();
            for (int c = 0; c < Clients; c++)
            {
                await StartClientAsync(c, reissue: null);
            }

            // Safety: the workload with faults on.
            for (int step = 0; step < Steps; step++)
            {
                HealDuePartitions();
                string action = await ActAsync();
                await _clock.AdvanceAsync(TimeSpan.FromMilliseconds(50 * _random.Next(0, 31)));
                Record(step, action);
                CheckPendingRetriesBounded(step);
            }

            // Liveness: faults off, partitions healed, held notifications delivered.
            _plan.Enabled = false;
            foreach (SimClient client in LiveClients)
            {
                client.PartitionedUntil = null;
                client.Transports.Transport?.SetPartitioned(false);
                client.Transports.Transport?.FlushHeldSnapshots();
            }

            await _clock.AdvanceAsync(ConvergenceBound);
            Record(Steps, "converged", withViews: true);
            CheckConverged("after the convergence bound");

            // Stability: nothing decays afterwards (a key left on an older session would vanish with it).
            await _clock.AdvanceAsync(Options.SessionTtl * 2);
            Record(Steps + 1, "stable", withViews: true);
            CheckConverged("two session TTLs later");
            CheckNotifications();

            await StopAllAsync();
            CheckResources();
        }
        catch (Exception e)
        {
            _violations.Add($"the simulation itself failed: {e}");
        }

        return new SimulationResult(
            _seed,
            Convert.ToHexString(_trace.GetHashAndReset()),
            _violations,
            _plan.Injected,
            _operations.Count,
            _clock.Elapsed);
    }

    private IEnumerable<SimClient> LiveClients => _clients.Where(c => c is { Stopped: false }).Select(c => c!);

    private async Task StartClientAsync(int id, SimClient? reissue)
    {
        var transports = new ChaosTransportFactory(_server, id, _plan, _time, _calls);
        int incarnation = ++_incarnations;
        var factory = new RegistryFactory(
            [new("memory", transports)],
            Options,
            _time,
            _wheel,
            TraceWriter is null || s_withoutLogs ? null : new TraceLoggerFactory(TraceWriter, _time, $"client {id}.{incarnation}"))
        {
            RandomSource = () => new Random(unchecked((_seed * 1_000_003) + incarnation)), // not HashCode.Combine: it is salted per process
        };
        var client = new SimClient(id, incarnation, factory, transports);
        _clients[id] = client;
        Task<IRegistry> opening = factory.GetRegistryAsync(s_address).AsTask();
        if (!await _clock.RunUntilAsync(opening, TimeSpan.FromMinutes(2)) || !opening.IsCompletedSuccessfully)
        {
            _violations.Add($"{client}: GetRegistryAsync did not complete within 2 minutes of virtual time ({opening.Status}).");
            client.Stopped = true;
            return;
        }

        client.Registry = await opening;
        if (reissue is not null)
        {
            // A restarted process asks for what its code asks for: the same registrations and subscriptions.
            foreach (ServiceUrl url in reissue.Registered)
            {
                Register(client, url);
            }

            foreach (int service in reissue.Subscriptions.Keys)
            {
                Subscribe(client, service);
            }
        }
    }

    private async Task<string> ActAsync()
    {
        SimClient? client = _clients[_random.Next(Clients)];
        if (client is null || client.Stopped || client.Registry is null)
        {
            return "idle";
        }

        int roll = _random.Next(100);
        switch (roll)
        {
            case < 32:
                return Register(client, Provider(client.Id, _random.Next(Services), _random.Next(Ports)));
            case < 47:
                {
                    ServiceUrl url = client.Intents.Count > 0 && _random.Next(4) > 0
                        ? client.Intents.Values.ElementAt(_random.Next(client.Intents.Count)).Url
                        : Provider(client.Id, _random.Next(Services), _random.Next(Ports));
                    client.Intents[url.ToFullString()] = (url, false);
                    client.Touched.Add("u " + url.ToFullString());
                    Track(client.Registry.UnregisterAsync(url).AsTask(), $"{client} unregister {url}");
                    return $"{client} unregister {url}";
                }

            case < 59:
                return Subscribe(client, _random.Next(Services));
            case < 65:
                {
                    if (client.Subscriptions.Count == 0)
                    {
                        return "idle";
                    }

                    int service = client.Subscriptions.Keys.ElementAt(_random.Next(client.Subscriptions.Count));
                    SimListener listener = client.Subscriptions[service];
                    client.Subscriptions.Remove(service);
                    Track(client.Registry.UnsubscribeAsync(Subscription(client.Id, service), listener).AsTask(), $"{client} unsubscribe svc{service}");
                    return $"{client} unsubscribe svc{service}";
                }

            case < 69:
                {
                    // The process dies: nothing more leaves it, its session stays until its TTL runs out; it restarts.
                    client.Transports.Transport?.Kill();
                    client.Stopped = true;
                    BeginDispose(client);
                    await StartClientAsync(client.Id, reissue: client);
                    return $"{client} crashed and restarted";
                }

            case < 72:
                {
                    // A graceful stop, and a fresh process in its place that asks for nothing yet.
                    client.Stopped = true;
                    BeginDispose(client);
                    await StartClientAsync(client.Id, reissue: null);
                    return $"{client} stopped; a new process started";
                }

            case < 78 when _plan.Enabled:
                {
                    TimeSpan length = TimeSpan.FromMilliseconds(500 * _random.Next(1, 51)); // up to 25 s: sessions expire
                    client.PartitionedUntil = _time.GetUtcNow() + length;
                    client.Transports.Transport?.SetPartitioned(true);
                    return $"{client} partitioned for {length.TotalSeconds:0.0} s";
                }

            case < 80 when _plan.Enabled:
                {
                    bool loseState = _random.Next(2) == 0;
                    _server.Restart(loseState);
                    return loseState ? "registry restarted empty" : "registry restarted";
                }

            default:
                return "idle";
        }
    }

    private string Register(SimClient client, ServiceUrl url)
    {
        client.Intents[url.ToFullString()] = (url, true);
        client.Touched.Add("r " + url.ToFullString());
        Track(client.Registry!.RegisterAsync(url).AsTask(), $"{client} register {url}");
        return $"{client} register {url}";
    }

    private string Subscribe(SimClient client, int service)
    {
        if (client.Subscriptions.ContainsKey(service))
        {
            return "idle";
        }

        var listener = new SimListener(client.Id, service);
        client.Subscriptions[service] = listener;
        client.Touched.Add("s " + service.ToString(CultureInfo.InvariantCulture));
        _allListeners.Add(listener);
        Track(client.Registry!.SubscribeAsync(Subscription(client.Id, service), listener).AsTask(), $"{client} subscribe svc{service}");
        return $"{client} subscribe svc{service}";
    }

    private void Track(Task operation, string what) => _operations.Add((operation, what));

    private void HealDuePartitions()
    {
        foreach (SimClient client in LiveClients)
        {
            if (client.PartitionedUntil is { } until && until <= _time.GetUtcNow())
            {
                client.PartitionedUntil = null;
                client.Transports.Transport?.SetPartitioned(false);
            }
        }
    }

    /// <summary>
    /// Starts disposing a client and goes on, as a process that exits does not wait for the next one to start. The
    /// shutdown's effects on the registry (deregistration, closing the session) come first in it; that it completes at
    /// all is checked at the end.
    /// </summary>
    private void BeginDispose(SimClient client) => _disposals.Add((client.Factory.DisposeAsync().AsTask(), client.ToString()));

    private async Task StopAllAsync()
    {
        foreach (SimClient client in LiveClients.ToList())
        {
            client.Stopped = true;
            BeginDispose(client);
        }

        Task all = Task.WhenAll(_disposals.Select(d => d.Task));
        if (!await _clock.RunUntilAsync(all, TimeSpan.FromMinutes(2)))
        {
            foreach ((Task task, string who) in _disposals.Where(d => !d.Task.IsCompleted))
            {
                _violations.Add($"resources: {who}'s DisposeAsync did not complete within 2 minutes of virtual time.");
            }
        }

        await _clock.AdvanceAsync(Options.SessionTtl); // crashed clients' sessions run out
    }

    /// <summary>
    /// Adds a line to the trace: the step, the registry's keys and, once everything is quiet, each listener's view.
    /// Mid-run views are left out: when a notification already queued reaches its listener, before or after a step's
    /// end, depends on threads; what the registry holds after each step depends only on the seed.
    /// </summary>
    private void Record(int step, string action, bool withViews = false)
    {
        var line = new StringBuilder();
        line.Append(CultureInfo.InvariantCulture, $"{step}|{action}|{_clock.Elapsed.Ticks}");
        foreach (KeyValuePair<string, string> entry in _server.GetEntries())
        {
            line.Append('|').Append(entry.Key);
        }

        foreach (SimClient client in withViews ? LiveClients : [])
        {
            foreach ((int service, SimListener listener) in client.Subscriptions.OrderBy(s => s.Key))
            {
                line.Append(CultureInfo.InvariantCulture, $"|{client.Id}/{service}=").AppendJoin(',', listener.View ?? ["?"]);
            }
        }

        string text = line.Append('\n').ToString();
        _trace.AppendData(Encoding.UTF8.GetBytes(text));
        TraceWriter?.Write(text);
    }

    private void CheckPendingRetriesBounded(int step)
    {
        foreach (SimClient client in LiveClients)
        {
            int pending = client.Registry?.GetStatus().PendingRetries.Total ?? 0;
            if (pending > client.Touched.Count)
            {
                _violations.Add($"step {step}: {client} has {pending} pending retries for {client.Touched.Count} things it ever asked for.");
            }
        }
    }

    private void CheckConverged(string when)
    {
        var expected = new SortedSet<string>(LiveClients.SelectMany(c => c.Registered).Select(u => u.ToFullString()), StringComparer.Ordinal);
        var actual = new SortedSet<string>(
            _server.GetEntries().Values.Select(ServiceUrl.Parse).Where(u => u.Category == "providers").Select(u => u.ToFullString()),
            StringComparer.Ordinal);
        foreach (string missing in expected.Except(actual))
        {
            _violations.Add($"{when}: convergence: '{missing}' is wanted by a live client but the registry does not hold it.");
        }

        foreach (string zombie in actual.Except(expected))
        {
            _violations.Add($"{when}: no zombies: the registry still holds '{zombie}', which no live client wants.");
        }

        foreach (SimClient client in LiveClients)
        {
            foreach ((int service, SimListener listener) in client.Subscriptions)
            {
                string[] truth = _truth.HistoryOf(ServiceName(service))[^1];
                if (listener.View is not { } view || !view.SequenceEqual(truth))
                {
                    _violations.Add(
                        $"{when}: {client}'s listener of svc{service} sees [{string.Join(", ", listener.View ?? ["nothing"])}], the registry holds [{string.Join(", ", truth)}] "
                        + $"(after {listener.Notifications.Count} notifications; {client.Registry?.GetStatus()}; the engine's view: {EngineViewOf(client, service, listener)}).");
                }
            }

            int pending = client.Registry?.GetStatus().PendingRetries.Total ?? 0;
            if (pending != 0)
            {
                _violations.Add($"{when}: {client} still has {pending} pending retries.");
            }
        }
    }

    /// <summary>
    /// Each listener's notifications must follow the registry's history forward: each one a state the registry was
    /// in, later than the state of the one before. A notification of an older state, or the same state twice in a row
    /// where the registry did not change in between, is a violation.
    /// </summary>
    private void CheckNotifications()
    {
        foreach (SimListener listener in _allListeners)
        {
            IReadOnlyList<string[]> history = _truth.HistoryOf(ServiceName(listener.Service));
            int at = -1;
            foreach (string[] notification in listener.Notifications)
            {
                int next = -1;
                for (int i = at + 1; i < history.Count; i++)
                {
                    if (history[i].SequenceEqual(notification))
                    {
                        next = i;
                        break;
                    }
                }

                if (next < 0)
                {
                    bool repeat = at >= 0 && history[at].SequenceEqual(notification);
                    _violations.Add(
                        $"no lost or stale notifications: client {listener.Client}'s listener of svc{listener.Service} was told [{string.Join(", ", notification)}] "
                        + (repeat ? "twice in a row." : "after a later state, or a state the registry never held."));
                    break;
                }

                at = next;
            }
        }
    }

    private void CheckResources()
    {
        if (_server.SessionCount != 0)
        {
            _violations.Add($"resources: {_server.SessionCount} sessions remain on the registry after every client stopped.");
        }

        if (_server.WatchCount != 0)
        {
            _violations.Add($"resources: {_server.WatchCount} watches remain on the registry after every client stopped.");
        }

        if (_wheel.PendingTimeouts != 0)
        {
            _violations.Add($"resources: {_wheel.PendingTimeouts} timeouts remain on the wheel after every client stopped.");
        }

        if (_calls.InFlight != 0)
        {
            _violations.Add($"resources: {_calls.InFlight} transport calls are still under way after every client stopped.");
        }

        foreach ((Task task, string what) in _operations)
        {
            if (!task.IsCompleted)
            {
                _violations.Add($"resources: '{what}' never completed.");
            }
            else if (task.IsFaulted && task.Exception!.InnerException is not ObjectDisposedException)
            {
                _violations.Add($"'{what}' failed: {task.Exception.InnerException}");
            }
        }

        _wheel.Dispose();
        _server.Dispose();
        if (_time.ScheduledTimers != 0)
        {
            _violations.Add($"resources: {_time.ScheduledTimers} timers remain armed after the wheel and the registry stopped.");
        }
    }

    /// <summary>What the client's engine last notified for the service, and whether its watch is up: for a failure message.</summary>
    private static string EngineViewOf(SimClient client, int service, SimListener listener)
    {
        if (client.Registry is not FailbackRegistry engine
            || typeof(FailbackRegistry).GetField("_subscriptions", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)?.GetValue(engine) is not System.Collections.IDictionary subscriptions
            || subscriptions[Subscription(client.Id, service)] is not FailbackRegistry.Subscription subscription)
        {
            return "unknown";
        }

        string lists = string.Join("; ", subscription.Notified.Select(n => $"{n.Key}: [{string.Join(", ", n.Value.Select(u => u.ToFullString()))}]"));
        const System.Reflection.BindingFlags Any = System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance;
        string pumps = string.Join(" ", subscription.Pumps.Select(p =>
            $"[ours={ReferenceEquals(p.Listener, listener)} started={typeof(ListenerPump).GetField("_started", Any)?.GetValue(p)} stopped={typeof(ListenerPump).GetField("_stopped", Any)?.GetValue(p)} "
            + $"draining={typeof(ListenerPump).GetField("_drainingNow", Any)?.GetValue(p)}/{(typeof(ListenerPump).GetField("_draining", Any)?.GetValue(p) as Task)?.Status} pending={(typeof(ListenerPump).GetField("_pending", Any)?.GetValue(p) as System.Collections.ICollection)?.Count}]"));
        return $"{lists}, watch {(subscription.Adapter is null ? "down" : "up")}, revision {subscription.Adapter?.LastRevision}, {subscription.Pumps.Count} listener(s) {pumps}";
    }

    private static string ServiceName(int service) => "svc" + service.ToString(CultureInfo.InvariantCulture);

    private static ServiceUrl Provider(int client, int service, int port) =>
        ServiceUrl.Parse(string.Create(CultureInfo.InvariantCulture, $"dubbo://10.0.0.{client + 1}:{20880 + port}/{ServiceName(service)}"));

    private static ServiceUrl Subscription(int client, int service) =>
        ServiceUrl.Parse(string.Create(CultureInfo.InvariantCulture, $"consumer://10.0.0.{client + 1}/{ServiceName(service)}"));
}
