using RegistryKit.InMemory;
using RegistryKit.Registry;
using RegistryKit.Testing;
using RegistryKit.Timers;
using RegistryKit.Transport;

namespace RegistryKit.Tests.Registry;

/// <summary>The session a registry keeps with its transport: fixed-rate heartbeats, loss, unreachability.</summary>
[CancelAfter(20_000)]
public class RegistrySessionHeartbeatTests
{
    private static readonly ServiceUrl s_registryUrl = ServiceUrl.Parse("memory://");

    private ManualTimeProvider _time = null!;
    private HashedWheelTimer _timer = null!;
    private InMemoryRegistryServer _server = null!;
    private readonly List<FailbackRegistry> _registries = [];

    [SetUp]
    public void SetUp()
    {
        _time = new ManualTimeProvider();

        // A 7 ms tick does not divide the 5 s interval, so every heartbeat fires a little late: drift would show.
        _timer = new HashedWheelTimer(_time, new HashedWheelTimerOptions { TickDuration = TimeSpan.FromMilliseconds(7) });
        _server = new InMemoryRegistryServer(_time);
    }

    [TearDown]
    public async Task TearDown()
    {
        _server.Faults.Clear();
        foreach (FailbackRegistry registry in _registries)
        {
            await registry.DisposeAsync();
        }

        _timer.Dispose();
        _server.Dispose();
    }

    [Test]
    public async Task Heartbeats_AtFixedRate_NoDriftOverAThousandPeriods()
    {
        var transport = new GatedTransport(new InMemoryRegistryTransportFactory(_server).CreateTransport(s_registryUrl), _time);
        FailbackRegistry registry = Create(transport);
        await registry.RegisterAsync(Provider(1));
        DateTimeOffset opened = _time.GetUtcNow();

        for (int i = 0; i < 1000; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(5));
        }

        // The 1000th slot is due exactly now and fires within one 7 ms tick.
        _time.Advance(TimeSpan.FromMilliseconds(7));
        Assert.That(transport.KeepAlives, Has.Count.EqualTo(1000));
        for (int i = 0; i < transport.KeepAlives.Count; i++)
        {
            TimeSpan late = transport.KeepAlives[i] - opened - (TimeSpan.FromSeconds(5) * (i + 1));
            Assert.That(late, Is.GreaterThanOrEqualTo(TimeSpan.Zero).And.LessThan(TimeSpan.FromMilliseconds(7)), $"heartbeat {i + 1}");
        }
    }

    [Test]
    public async Task Heartbeats_AtTheConfiguredInterval_WhenItFitsTheGrantedTtl()
    {
        var transport = new GatedTransport(new InMemoryRegistryTransportFactory(_server).CreateTransport(s_registryUrl), _time);
        var registry = new FailbackRegistry(s_registryUrl, transport, _timer, _time, new RegistryOptions { Check = false, HeartbeatInterval = TimeSpan.FromSeconds(2) });
        _registries.Add(registry);
        await registry.RegisterAsync(Provider(1));

        _time.Advance(TimeSpan.FromSeconds(10.01));

        Assert.That(transport.KeepAlives, Has.Count.EqualTo(5), "every 2 s, not the transport's 5 s");
    }

    [Test]
    public void HeartbeatInterval_NotBelowTheTtl_IsRejectedWithTheRule()
    {
        var options = new RegistryOptions { SessionTtl = TimeSpan.FromSeconds(15), HeartbeatInterval = TimeSpan.FromSeconds(15) };

        var error = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);

        Assert.That(error!.ParamName, Is.EqualTo("HeartbeatInterval"));
        Assert.That(error.Message, Does.Contain("must be positive and below SessionTtl (00:00:15)"));
    }

    [Test]
    public async Task Heartbeats_SlowRegistry_NeverTwoInFlight()
    {
        var transport = new GatedTransport(new InMemoryRegistryTransportFactory(_server).CreateTransport(s_registryUrl), _time);
        FailbackRegistry registry = Create(transport);
        await registry.RegisterAsync(Provider(1));
        _server.Faults.CallDelay = TimeSpan.FromSeconds(7);

        _time.Advance(TimeSpan.FromSeconds(60));

        Assert.That(transport.MaxKeepAlivesInFlight, Is.EqualTo(1));
        Assert.That(registry.GetStatus().SkippedHeartbeats, Is.GreaterThan(0));
    }

    [Test]
    public async Task SessionUnknown_EveryIntentIsBackWithinOneHeartbeatInterval()
    {
        FailbackRegistry registry = Create();
        await registry.RegisterAsync(Provider(1));
        await registry.RegisterAsync(Provider(2));
        _time.Advance(TimeSpan.FromSeconds(5));

        _server.Restart(loseState: true);
        DateTimeOffset forgotten = _time.GetUtcNow();
        while (_server.GetEntries().Count < 2)
        {
            _time.Advance(TimeSpan.FromMilliseconds(100));
            Assert.That(_time.GetUtcNow() - forgotten, Is.LessThanOrEqualTo(TimeSpan.FromSeconds(5)), "recovery took longer than one heartbeat interval");
        }

        Assert.That(registry.SessionRecoveries, Is.EqualTo(1));
    }

    [Test]
    public async Task ConsecutiveHeartbeatFailures_MarkUnreachable_ThenRecoveryConverges()
    {
        FailbackRegistry registry = Create();
        await registry.RegisterAsync(Provider(1));
        _server.Faults.MakeUnreachable(TimeSpan.FromSeconds(60));

        // Slots at 5, 10 and 15 s, each firing within one 7 ms tick.
        _time.Advance(TimeSpan.FromSeconds(10.01));
        Assert.That(registry.GetStatus().UnreachableFor, Is.Null, "two failures are below the threshold of three");

        _time.Advance(TimeSpan.FromSeconds(5));
        RegistryStatus status = registry.GetStatus();
        Assert.That(status.IsAvailable, Is.False);
        Assert.That(status.UnreachableFor, Is.Not.Null.And.LessThan(TimeSpan.FromMilliseconds(10)));

        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.That(registry.GetStatus().UnreachableFor, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(30)).And.LessThan(TimeSpan.FromSeconds(30.01)));
        Assert.That(registry.GetStatus().PendingRetries.Register, Is.EqualTo(1), "recovery keeps retrying with backoff");

        _time.Advance(TimeSpan.FromMinutes(2));
        Assert.That(_server.GetEntries(), Has.Count.EqualTo(1));
        Assert.That(registry.GetStatus().IsAvailable, Is.True);
        Assert.That(registry.GetStatus().UnreachableFor, Is.Null);
    }

    [Test]
    public async Task KeepAliveThrowingInsteadOfFaulting_CountsAsAFailedHeartbeat_AndRecoveryFollows()
    {
        // A transport may throw from KeepAliveAsync itself rather than return a faulted ValueTask; the heartbeat's
        // synchronous fast path must treat both alike.
        var transport = new GatedTransport(new InMemoryRegistryTransportFactory(_server).CreateTransport(s_registryUrl), _time);
        FailbackRegistry registry = Create(transport);
        await registry.RegisterAsync(Provider(1));
        Assert.That(registry.SessionRecoveries, Is.Zero);

        transport.ThrowSynchronously = new RegistryTransportException("the connection is gone");
        _time.Advance(TimeSpan.FromSeconds(10.01));
        Assert.That(registry.GetStatus().UnreachableFor, Is.Null, "two failures are below the threshold of three");

        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.That(registry.GetStatus().UnreachableFor, Is.Not.Null, "three thrown keep-alives mark the registry unreachable");

        transport.ThrowSynchronously = null;
        _time.Advance(TimeSpan.FromMinutes(2));
        Assert.Multiple(() =>
        {
            Assert.That(registry.GetStatus().IsAvailable, Is.True);
            Assert.That(registry.GetStatus().UnreachableFor, Is.Null);
            Assert.That(registry.SessionRecoveries, Is.EqualTo(1));
            Assert.That(_server.GetEntries(), Has.Count.EqualTo(1));
        });
    }

    [Test]
    public async Task LateReplyFromAnOldSession_NeverUndoesTheNewOne()
    {
        var transport = new GatedTransport(new InMemoryRegistryTransportFactory(_server).CreateTransport(s_registryUrl), _time);
        FailbackRegistry registry = Create(transport);
        await registry.RegisterAsync(Provider(1));
        RegistrySession first = registry.Session!;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        transport.KeepAliveGate = gate;
        _time.Advance(TimeSpan.FromSeconds(5.01));
        Assert.That(transport.LastKeepAlive, Is.Not.Null, "the first heartbeat is held at the gate");

        // While the old session's heartbeat hangs, the registry forgets everything; a write notices and recovers.
        _server.Restart(loseState: true);
        transport.KeepAliveGate = null;
        await registry.RegisterAsync(Provider(2));
        RegistrySession second = registry.Session!;
        Assert.That(second, Is.Not.SameAs(first));

        gate.SetResult();
        Assert.That(async () => await transport.LastKeepAlive!, Throws.InstanceOf<RegistrySessionLostException>(), "the registry answers the old session with 'unknown'");

        Assert.That(registry.Session, Is.SameAs(second), "the old session's 'unknown' answer must not retire the new one");
        Assert.That(registry.SessionRecoveries, Is.EqualTo(1));
        Assert.That(_server.GetEntries(), Has.Count.EqualTo(2));
    }

    [Test]
    public async Task SessionUnknown_ListenersAreResubscribedWithinOneHeartbeatInterval()
    {
        FailbackRegistry registry = Create();
        await registry.RegisterAsync(Provider(1));
        var listener = new Support.RecordingListener();
        await registry.SubscribeAsync(ServiceUrl.Parse("consumer://10.0.0.9/com.example.Greeter"), listener);

        _server.Restart(loseState: true);
        Assert.That(_server.WatchCount, Is.Zero);

        // The next heartbeat (by 5 s) hears "unknown"; recovery re-subscribes at once instead of after the watch's
        // own retry backoff (5–6 s).
        _time.Advance(TimeSpan.FromSeconds(5) + TimeSpan.FromMilliseconds(20));

        Assert.That(_server.WatchCount, Is.EqualTo(1));
        Assert.That(_server.GetEntries(), Has.Count.EqualTo(1));
        Assert.That(registry.PendingRetries.Total, Is.Zero);
    }

    [Test]
    public async Task FailureThreshold_IsConfigurable()
    {
        var registry = new FailbackRegistry(
            s_registryUrl,
            new InMemoryRegistryTransportFactory(_server).CreateTransport(s_registryUrl),
            _timer,
            _time,
            new RegistryOptions { Check = false, HeartbeatFailureThreshold = 1 },
            random: new Random(7));
        _registries.Add(registry);
        await registry.RegisterAsync(Provider(1));
        _server.Faults.FailNextCalls(1);

        _time.Advance(TimeSpan.FromSeconds(5.01));

        // One failed heartbeat reaches a threshold of one: the session is given up and recovered. The registry counts
        // as reachable again once the new session's first keep-alive is acknowledged. With the default of three, one
        // failure does nothing.
        Assert.That(registry.SessionRecoveries, Is.EqualTo(1));
        Assert.That(registry.GetStatus().UnreachableFor, Is.Not.Null);
        _time.Advance(TimeSpan.FromSeconds(5.1));
        Assert.That(registry.GetStatus().UnreachableFor, Is.Null);
    }

    [Test]
    public async Task Heartbeats_FollowTheIntervalTheTransportAsksFor_SparkStyleQuarterOfTheTimeout()
    {
        var transport = new GatedTransport(new QuarterIntervalTransport(new InMemoryRegistryTransportFactory(_server).CreateTransport(s_registryUrl)), _time);
        FailbackRegistry registry = Create(transport);
        await registry.RegisterAsync(Provider(1));
        DateTimeOffset opened = _time.GetUtcNow();

        _time.Advance(TimeSpan.FromSeconds(60.01));

        // A 60 s session with heartbeats every 60 / 4 = 15 s.
        Assert.That(transport.KeepAlives.Select(t => Math.Round((t - opened).TotalSeconds)), Is.EqualTo(new double[] { 15, 30, 45, 60 }));
    }

    [Test]
    public async Task Heartbeat_InSteadyState_AllocatesNothing()
    {
        // In unoptimised (Debug) builds the compiler makes async state machines classes, one allocation per call;
        // the promise is for the code users run. CI tests Release.
        if (typeof(FailbackRegistry).Assembly.GetCustomAttributes(typeof(System.Diagnostics.DebuggableAttribute), false)
            is [System.Diagnostics.DebuggableAttribute { IsJITOptimizerDisabled: true }])
        {
            Assert.Ignore("Allocation is measured on optimised builds only: run with -c Release.");
            return;
        }

        var clock = new TinyClock();
        using var timer = new HashedWheelTimer(clock, new HashedWheelTimerOptions { TickDuration = TimeSpan.FromMilliseconds(10) });
        var transport = new NoOpTransport();
        // With the metrics and spans on the path, as every registry made by a RegistryFactory has them.
        var registry = new FailbackRegistry(
            s_registryUrl, transport, timer, clock, new RegistryOptions { Check = false }, random: new Random(1), telemetry: Diagnostics.RegistryTelemetry.For(null));
        await registry.RegisterAsync(Provider(1));

        // Warm-up: a wheel makes a bucket's sentinel the first time a timeout lands in it. Beats 5 s apart on 8,192
        // buckets of 10 ms land in 2,048 distinct buckets (8,192 / gcd(500, 8,192)); after those, nothing is new.
        for (int i = 0; i < 2100; i++)
        {
            clock.Advance(TimeSpan.FromSeconds(5));
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        int keepAlivesBefore = transport.KeepAlives;
        for (int i = 0; i < 1000; i++)
        {
            clock.Advance(TimeSpan.FromSeconds(5));
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(transport.KeepAlives - keepAlivesBefore, Is.EqualTo(1000));
        Assert.That(allocated, Is.Zero);
        await registry.DisposeAsync();
    }

    [Test]
    public async Task ClockCallingBackFromChange_PastTheSlotBeingArmed_TheChainGoesOnAndNothingHangs()
    {
        // The chain arms its slot under its own gate. On a clock that calls back from Change, and that moved on past the
        // new slot meanwhile, the wheel runs that very timeout inside the arming call: the chain's task must not wait
        // for the gate its own thread holds, and the beat must still go out.
        var clock = new TinyClock();
        using var timer = new HashedWheelTimer(clock, new HashedWheelTimerOptions { TickDuration = TimeSpan.FromMilliseconds(10) });
        var transport = new NoOpTransport();
        var registry = new FailbackRegistry(s_registryUrl, transport, timer, clock, new RegistryOptions { Check = false }, random: new Random(1));
        clock.JumpOnNextChange = TimeSpan.FromSeconds(6);

        // Opening the session arms the first slot, 5 s away; arming it moves the clock 6 s on.
        await registry.RegisterAsync(Provider(1));
        Assert.That(transport.KeepAlives, Is.Zero, "the slot that came due while being armed goes out at the next tick");

        clock.Advance(TimeSpan.FromMilliseconds(10));
        Assert.That(transport.KeepAlives, Is.EqualTo(1));

        // And the chain carries on at its fixed rate: the next slot is at 10 s.
        clock.Advance(TimeSpan.FromSeconds(4));
        Assert.That(transport.KeepAlives, Is.EqualTo(2));
        clock.Advance(TimeSpan.FromSeconds(5));
        Assert.That(transport.KeepAlives, Is.EqualTo(3));
        await registry.DisposeAsync();
    }

    private FailbackRegistry Create(IRegistryTransport? transport = null)
    {
        transport ??= new InMemoryRegistryTransportFactory(_server).CreateTransport(s_registryUrl);
        var registry = new FailbackRegistry(s_registryUrl, transport, _timer, _time, new RegistryOptions { Check = false }, random: new Random(7));
        _registries.Add(registry);
        return registry;
    }

    private static ServiceUrl Provider(int port) => ServiceUrl.Parse($"dubbo://10.0.0.1:{port}/com.example.Greeter");

    /// <summary>Records keep-alives (times and concurrency) and can hold them at a gate.</summary>
    private sealed class GatedTransport(IRegistryTransport inner, TimeProvider time) : IRegistryTransport
    {
        private int _inFlight;

        public List<DateTimeOffset> KeepAlives { get; } = [];

        public int MaxKeepAlivesInFlight { get; private set; }

        public TaskCompletionSource? KeepAliveGate { get; set; }

        public Task? LastKeepAlive { get; private set; }

        /// <summary>When set, KeepAliveAsync throws it itself instead of returning a faulted task.</summary>
        public Exception? ThrowSynchronously { get; set; }

        public ValueTask KeepAliveAsync(RegistrySession session, CancellationToken cancellationToken)
        {
            KeepAlives.Add(time.GetUtcNow());
            if (ThrowSynchronously is { } exception)
            {
                throw exception;
            }

            Task call = KeepAliveCoreAsync(session, KeepAliveGate, cancellationToken);
            LastKeepAlive = call;
            return new ValueTask(call);
        }

        public ValueTask<RegistrySession> OpenSessionAsync(TimeSpan ttl, CancellationToken cancellationToken) => inner.OpenSessionAsync(ttl, cancellationToken);

        public ValueTask CloseSessionAsync(RegistrySession session, CancellationToken cancellationToken) => inner.CloseSessionAsync(session, cancellationToken);

        public ValueTask RegisterAsync(RegistrySession session, ServiceUrl url, CancellationToken cancellationToken) => inner.RegisterAsync(session, url, cancellationToken);

        public ValueTask UnregisterAsync(RegistrySession session, ServiceUrl url, CancellationToken cancellationToken) => inner.UnregisterAsync(session, url, cancellationToken);

        public ValueTask<IAsyncDisposable> WatchAsync(ServiceUrl subscription, ITransportWatcher watcher, CancellationToken cancellationToken) => inner.WatchAsync(subscription, watcher, cancellationToken);

        public ValueTask<TransportSnapshot> LookupAsync(ServiceUrl subscription, CancellationToken cancellationToken) => inner.LookupAsync(subscription, cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();

        private async Task KeepAliveCoreAsync(RegistrySession session, TaskCompletionSource? gate, CancellationToken cancellationToken)
        {
            MaxKeepAlivesInFlight = Math.Max(MaxKeepAlivesInFlight, Interlocked.Increment(ref _inFlight));
            try
            {
                if (gate is not null)
                {
                    await gate.Task;
                }

                await inner.KeepAliveAsync(session, cancellationToken);
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }
    }

    /// <summary>Asks for a 60 s session with heartbeats at a quarter of it, as Spark's worker does.</summary>
    private sealed class QuarterIntervalTransport(IRegistryTransport inner) : IRegistryTransport
    {
        public async ValueTask<RegistrySession> OpenSessionAsync(TimeSpan ttl, CancellationToken cancellationToken)
        {
            RegistrySession session = await inner.OpenSessionAsync(TimeSpan.FromSeconds(60), cancellationToken);
            return new RegistrySession(session.Id, session.Ttl, session.Ttl / 4);
        }

        public ValueTask KeepAliveAsync(RegistrySession session, CancellationToken cancellationToken) => inner.KeepAliveAsync(session, cancellationToken);

        public ValueTask CloseSessionAsync(RegistrySession session, CancellationToken cancellationToken) => inner.CloseSessionAsync(session, cancellationToken);

        public ValueTask RegisterAsync(RegistrySession session, ServiceUrl url, CancellationToken cancellationToken) => inner.RegisterAsync(session, url, cancellationToken);

        public ValueTask UnregisterAsync(RegistrySession session, ServiceUrl url, CancellationToken cancellationToken) => inner.UnregisterAsync(session, url, cancellationToken);

        public ValueTask<IAsyncDisposable> WatchAsync(ServiceUrl subscription, ITransportWatcher watcher, CancellationToken cancellationToken) => inner.WatchAsync(subscription, watcher, cancellationToken);

        public ValueTask<TransportSnapshot> LookupAsync(ServiceUrl subscription, CancellationToken cancellationToken) => inner.LookupAsync(subscription, cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    /// <summary>A transport that answers everything at once and allocates nothing: the heartbeat path alone is measured.</summary>
    private sealed class NoOpTransport : IRegistryTransport
    {
        private readonly RegistrySession _session = new("1", TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(5));

        public int KeepAlives { get; private set; }

        public ValueTask<RegistrySession> OpenSessionAsync(TimeSpan ttl, CancellationToken cancellationToken) => ValueTask.FromResult(_session);

        public ValueTask KeepAliveAsync(RegistrySession session, CancellationToken cancellationToken)
        {
            KeepAlives++;
            return ValueTask.CompletedTask;
        }

        public ValueTask CloseSessionAsync(RegistrySession session, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask RegisterAsync(RegistrySession session, ServiceUrl url, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask UnregisterAsync(RegistrySession session, ServiceUrl url, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask<IAsyncDisposable> WatchAsync(ServiceUrl subscription, ITransportWatcher watcher, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public ValueTask<TransportSnapshot> LookupAsync(ServiceUrl subscription, CancellationToken cancellationToken) =>
            ValueTask.FromResult(new TransportSnapshot(0, []));

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>A manual clock with timers that allocates nothing when time moves, unlike a general-purpose one.</summary>
    private sealed class TinyClock : TimeProvider
    {
        private readonly List<TinyTimer> _timers = [];
        private long _now;

        /// <summary>
        /// When set, the next <see cref="ITimer.Change"/> moves the clock on by this much, and a timer that is then due
        /// calls back from inside <c>Change</c>, as FakeTimeProvider's do for a due time of zero.
        /// </summary>
        public TimeSpan JumpOnNextChange { get; set; }

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _now;

        public override DateTimeOffset GetUtcNow() => new(_now + ManualTimeProvider.DefaultStart.UtcTicks, TimeSpan.Zero);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = new TinyTimer(this, callback, state);
            _timers.Add(timer);
            timer.Change(dueTime, period);
            return timer;
        }

        public void Advance(TimeSpan delta)
        {
            long target = _now + delta.Ticks;
            while (true)
            {
                TinyTimer? next = null;
                foreach (TinyTimer timer in _timers)
                {
                    if (timer.Due <= target && (next is null || timer.Due < next.Due))
                    {
                        next = timer;
                    }
                }

                if (next is null)
                {
                    _now = target;
                    return;
                }

                _now = Math.Max(_now, next.Due);
                next.Due = long.MaxValue;
                next.Callback(next.State);
            }
        }

        private sealed class TinyTimer(TinyClock clock, TimerCallback callback, object? state) : ITimer
        {
            public long Due { get; set; } = long.MaxValue;

            public TimerCallback Callback { get; } = callback;

            public object? State { get; } = state;

            public bool Change(TimeSpan dueTime, TimeSpan period)
            {
                Due = dueTime == Timeout.InfiniteTimeSpan ? long.MaxValue : clock._now + dueTime.Ticks;
                if (clock.JumpOnNextChange > TimeSpan.Zero)
                {
                    clock._now += clock.JumpOnNextChange.Ticks;
                    clock.JumpOnNextChange = TimeSpan.Zero;
                    if (Due <= clock._now)
                    {
                        Due = long.MaxValue;
                        Callback(State);
                    }
                }

                return true;
            }

            public void Dispose() => Due = long.MaxValue;

            public ValueTask DisposeAsync()
            {
                Dispose();
                return ValueTask.CompletedTask;
            }
        }
    }
}
