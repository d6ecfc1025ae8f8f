using RegistryKit.Heartbeat;
using RegistryKit.Registration;
using RegistryKit.Testing;
using RegistryKit.Tests.Support;
using RegistryKit.Timers;

namespace RegistryKit.Tests.Registration;

[CancelAfter(20_000)]
public class RegisteredConnectionTests
{
    // Attempt timeouts far beyond the test's horizon: these tests are about the connection, not the retry schedule.
    private static readonly RegisteredConnectionOptions s_options = new()
    {
        Registration = new RetryingRegistrationOptions
        {
            InitialTimeout = TimeSpan.FromHours(1),
            MaxTimeout = TimeSpan.FromHours(1),
            ErrorDelay = TimeSpan.FromSeconds(10),
            RefusedDelay = TimeSpan.FromSeconds(30),
        },
    };

    private ManualTimeProvider _time = null!;
    private HashedWheelTimer _timer = null!;
    private ControlledGateway _gateway = null!;
    private RecordingConnectionListener _listener = null!;
    private CollectingLogger<RegisteredConnectionTests> _logger = null!;

    [SetUp]
    public void SetUp()
    {
        _time = new ManualTimeProvider();
        _timer = new HashedWheelTimer(_time);
        _gateway = new ControlledGateway();
        _listener = new RecordingConnectionListener();
        _logger = new CollectingLogger<RegisteredConnectionTests>();
    }

    [TearDown]
    public void TearDown() => _timer.Dispose();

    [Test]
    public void Defaults_MaxRegistrationDurationIsFiveMinutes()
    {
        Assert.That(new RegisteredConnectionOptions().MaxRegistrationDuration, Is.EqualTo(TimeSpan.FromMinutes(5)).And.EqualTo(RegisteredConnectionDefaults.MaxRegistrationDuration));
        Assert.That(
            () => new RegisteredConnectionOptions { MaxRegistrationDuration = TimeSpan.Zero }.Validate(),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("MaxRegistrationDuration"));
    }

    [Test]
    public void Start_Success_SetsTheGatewayAndTellsTheListenerOnce()
    {
        using RegisteredConnection<ControlledGateway, string, string> connection = Create();

        connection.Start();
        _gateway.Pending[0].Reply.SetResult(RegistrationResponse<string, string>.Success("slot-1"));

        Assert.That(connection.IsConnected, Is.True);
        Assert.That(connection.Gateway, Is.SameAs(_gateway));
        Assert.That(_listener.Events, Is.EqualTo(new[] { "success slot-1" }));
        Assert.That(_gateway.Pending[0].Attempt.FencingToken, Is.EqualTo(connection.FencingToken));
    }

    [Test]
    public void Start_TwiceOrAfterClose_Throws()
    {
        using RegisteredConnection<ControlledGateway, string, string> connection = Create();
        connection.Start();
        Assert.That(connection.Start, Throws.InvalidOperationException.With.Message.Contains("already started"));

        using RegisteredConnection<ControlledGateway, string, string> closed = Create();
        closed.Close();
        Assert.That(closed.Start, Throws.InvalidOperationException.With.Message.Contains("closed"));
    }

    [Test]
    public void Rejection_TellsTheListenerAndDisarmsTheDeadline()
    {
        using RegisteredConnection<ControlledGateway, string, string> connection = Create();
        connection.Start();

        _gateway.Pending[0].Reply.SetResult(RegistrationResponse<string, string>.Rejection("banned"));
        _time.Advance(TimeSpan.FromMinutes(10));

        Assert.That(_listener.Events, Is.EqualTo(new[] { "rejection banned" }));
        Assert.That(connection.IsConnected, Is.False);
    }

    [Test]
    public void Failure_TellsTheListener()
    {
        using var connection = new RegisteredConnection<ControlledGateway, string, string>(
            "master-1", (_, _) => throw new ArgumentException("bad address"), (g, a, t) => g.RegisterAsync(a, t), _listener, _timer, _time, s_options);

        connection.Start();

        Assert.That(_listener.Events, Has.Count.EqualTo(1));
        Assert.That(_listener.Events[0], Does.StartWith("failure"));
    }

    [Test]
    public void Close_DuringRegistration_TellsNobody()
    {
        using RegisteredConnection<ControlledGateway, string, string> connection = Create();
        connection.Start();

        connection.Close();
        _gateway.Pending[0].Reply.SetResult(RegistrationResponse<string, string>.Success("late"));
        _time.Advance(TimeSpan.FromMinutes(10));

        Assert.That(_listener.Events, Is.Empty);
        Assert.That(connection.IsClosed, Is.True);
    }

    [Test]
    public void TryReconnect_BeforeAFirstSuccess_Throws_AfterClose_ReturnsFalse()
    {
        using RegisteredConnection<ControlledGateway, string, string> connection = Create();
        connection.Start();
        Assert.That(() => connection.TryReconnect(), Throws.InvalidOperationException.With.Message.Contains("before a first registration succeeded"));

        _gateway.Pending[0].Reply.SetResult(RegistrationResponse<string, string>.Success("slot-1"));
        connection.Close();

        Assert.That(connection.TryReconnect(), Is.False);
        Assert.That(_gateway.Pending, Has.Count.EqualTo(1));
    }

    [Test]
    public void TryReconnect_StartsANewRegistrationWithAFreshFencingToken()
    {
        using RegisteredConnection<ControlledGateway, string, string> connection = Create();
        connection.Start();
        _gateway.Pending[0].Reply.SetResult(RegistrationResponse<string, string>.Success("slot-1"));

        Assert.That(connection.TryReconnect(), Is.True);

        Assert.That(_gateway.Pending, Has.Count.EqualTo(2));
        Assert.That(_gateway.Pending[1].Attempt.FencingToken, Is.Not.EqualTo(_gateway.Pending[0].Attempt.FencingToken));
        Assert.That(connection.FencingToken, Is.EqualTo(_gateway.Pending[1].Attempt.FencingToken));
    }

    [Test]
    public void AnswerOfARegistrationNoLongerCurrent_IsIgnored_Flink12260()
    {
        using RegisteredConnection<ControlledGateway, string, string> connection = Create();
        connection.Start();
        _gateway.Pending[0].Reply.SetResult(RegistrationResponse<string, string>.Success("slot-1"));
        connection.TryReconnect();

        // The second registration's answer arrives just as a concurrent reconnect wins: it must change nothing.
        _gateway.Pending[1].BeforeReply = () => connection.TryReconnect();
        _gateway.Pending[1].Resolve(RegistrationResponse<string, string>.Success("stale-slot"));

        // Dropped either because its registration was cancelled or, if it had already completed, by the stale check.
        Assert.That(_listener.Events, Is.EqualTo(new[] { "success slot-1" }));
        Assert.That(connection.FencingToken, Is.EqualTo(_gateway.Pending[2].Attempt.FencingToken));

        _gateway.Pending[2].Reply.SetResult(RegistrationResponse<string, string>.Success("slot-3"));
        Assert.That(_listener.Events, Is.EqualTo(new[] { "success slot-1", "success slot-3" }));
    }

    [Test]
    public void TryReconnect_FromManyThreadsAtOnce_LeavesExactlyOneLiveRegistration()
    {
        using RegisteredConnection<ControlledGateway, string, string> connection = Create();
        connection.Start();
        _gateway.Pending[0].Reply.SetResult(RegistrationResponse<string, string>.Success("slot-1"));

        bool[] won = new bool[16];
        Parallel.For(0, won.Length, i => won[i] = connection.TryReconnect());

        Assert.That(won, Has.Some.True);
        Assert.That(_gateway.Pending.Skip(1).Count(p => !p.Token.IsCancellationRequested), Is.EqualTo(1), "one registration survives; the rest are cancelled");
        Assert.That(connection.FencingToken, Is.EqualTo(_gateway.Pending.Skip(1).Single(p => !p.Token.IsCancellationRequested).Attempt.FencingToken));
    }

    [Test]
    public void Deadline_NoSuccessWithinFiveMinutes_ReportsATimeoutOnce()
    {
        _gateway.AutoReply = () => RegistrationResponse<string, string>.Decline("not ready");
        using RegisteredConnection<ControlledGateway, string, string> connection = Create();
        connection.Start();

        _time.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromMilliseconds(10));
        Assert.That(_listener.Events, Is.Empty);

        _time.Advance(TimeSpan.FromMilliseconds(20));
        Assert.That(_listener.Events, Is.EqualTo(new[] { "timeout 00:05:00" }));

        _time.Advance(TimeSpan.FromMinutes(10));
        Assert.That(_listener.Events, Has.Count.EqualTo(1));
        Assert.That(_gateway.Pending.Count, Is.GreaterThan(10), "registration goes on after the timeout is reported");
    }

    [Test]
    public void Deadline_IsReArmedOnReconnectWithAFreshToken()
    {
        using RegisteredConnection<ControlledGateway, string, string> connection = Create();
        connection.Start();
        _gateway.Pending[0].Reply.SetResult(RegistrationResponse<string, string>.Success("slot-1"));
        _time.Advance(TimeSpan.FromMinutes(1));

        connection.TryReconnect();
        _time.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromMilliseconds(10));
        Assert.That(_listener.Events, Is.EqualTo(new[] { "success slot-1" }), "the deadline counts from the reconnect");

        _time.Advance(TimeSpan.FromMilliseconds(20));
        Assert.That(_listener.Events, Is.EqualTo(new[] { "success slot-1", "timeout 00:05:00" }));
    }

    [Test]
    public async Task HeartbeatTimeout_ReconnectsToTheLastKnownAddressAndReArmsTheDeadline_Flink6160()
    {
        using RegisteredConnection<ControlledGateway, string, string> connection = Create();
        await using HeartbeatManager<string, string> heartbeats = HeartbeatManager.CreateReceiver(
            "worker-1", new ReconnectOnLoss(connection), _timer, _time);
        connection.Start();
        _gateway.Pending[0].Reply.SetResult(RegistrationResponse<string, string>.Success("slot-1"));
        heartbeats.MonitorTarget("master-1", new NoOpTarget());

        _time.Advance(TimeSpan.FromSeconds(50));

        Assert.That(_gateway.Pending, Has.Count.EqualTo(2), "a silent master is registered with again");
        Assert.That(_gateway.Pending[1].Attempt.TargetAddress, Is.EqualTo("master-1"));
        Assert.That(_gateway.Pending[1].Attempt.FencingToken, Is.Not.EqualTo(_gateway.Pending[0].Attempt.FencingToken));
        _time.Advance(TimeSpan.FromMinutes(5));
        Assert.That(_listener.Events, Is.EqualTo(new[] { "success slot-1", "timeout 00:05:00" }), "the deadline was re-armed by the reconnect");
    }

    [Test]
    public void TargetUnreachable_ReconnectsToo()
    {
        using RegisteredConnection<ControlledGateway, string, string> connection = Create();
        using var heartbeats = new TargetHeartbeats(connection, _timer, _time);
        connection.Start();
        _gateway.Pending[0].Reply.SetResult(RegistrationResponse<string, string>.Success("slot-1"));

        // Two unreachable heartbeat requests (the default threshold) make the master lost.
        _time.Advance(TimeSpan.FromSeconds(10.02));

        Assert.That(_gateway.Pending, Has.Count.EqualTo(2));
        Assert.That(_gateway.Pending[1].Attempt.FencingToken, Is.Not.EqualTo(_gateway.Pending[0].Attempt.FencingToken));
    }

    [Test]
    public void Close_FromInsideACallback_DoesNotDeadlockAndStopsEverything()
    {
        RegisteredConnection<ControlledGateway, string, string>? connection = null;
        _listener.OnEvent = _ => connection!.Close();
        connection = Create();
        connection.Start();

        _gateway.Pending[0].Reply.SetResult(RegistrationResponse<string, string>.Success("slot-1"));

        Assert.That(connection.IsClosed, Is.True);
        Assert.That(connection.TryReconnect(), Is.False);
        _time.Advance(TimeSpan.FromMinutes(10));
        Assert.That(_listener.Events, Is.EqualTo(new[] { "success slot-1" }));
    }

    private RegisteredConnection<ControlledGateway, string, string> Create() =>
        new("master-1", (_, _) => ValueTask.FromResult(_gateway), (g, a, t) => g.RegisterAsync(a, t), _listener, _timer, _time, s_options, _logger);

    public sealed class ControlledGateway
    {
        public List<PendingAttempt> Pending { get; } = [];

        public Func<RegistrationResponse<string, string>>? AutoReply { get; set; }

        public ValueTask<RegistrationResponse<string, string>> RegisterAsync(RegistrationAttempt attempt, CancellationToken token)
        {
            if (AutoReply is not null)
            {
                lock (Pending)
                {
                    Pending.Add(new PendingAttempt(attempt, token));
                }

                return ValueTask.FromResult(AutoReply());
            }

            var pending = new PendingAttempt(attempt, token);
            lock (Pending)
            {
                Pending.Add(pending);
            }

            return new ValueTask<RegistrationResponse<string, string>>(pending.Reply.Task);
        }
    }

    public sealed class PendingAttempt(RegistrationAttempt attempt, CancellationToken token)
    {
        public RegistrationAttempt Attempt { get; } = attempt;

        public CancellationToken Token { get; } = token;

        public TaskCompletionSource<RegistrationResponse<string, string>> Reply { get; } = new();

        public Action? BeforeReply { get; set; }

        public void Resolve(RegistrationResponse<string, string> response)
        {
            BeforeReply?.Invoke();
            Reply.SetResult(response);
        }
    }

    private sealed class RecordingConnectionListener : IRegisteredConnectionListener<ControlledGateway, string, string>
    {
        public List<string> Events { get; } = [];

        public Action<string>? OnEvent { get; set; }

        public void OnRegistrationSuccess(ControlledGateway gateway, string success) => Add("success " + success);

        public void OnRegistrationRejection(string rejection) => Add("rejection " + rejection);

        public void OnRegistrationFailure(Exception failure) => Add("failure " + failure.GetType().Name);

        public void OnRegistrationTimeout(TimeSpan maxDuration) => Add("timeout " + maxDuration);

        private void Add(string item)
        {
            Events.Add(item);
            OnEvent?.Invoke(item);
        }
    }

    /// <summary>A sender heartbeating a master that cannot be reached, wired to the connection.</summary>
    private sealed class TargetHeartbeats : IDisposable
    {
        private readonly HeartbeatManager<string, string> _manager;

        public TargetHeartbeats(RegisteredConnection<ControlledGateway, string, string> connection, HashedWheelTimer timer, TimeProvider time)
        {
            _manager = HeartbeatManager.CreateSender("worker-1", new ReconnectOnLoss(connection), timer, time);
            _manager.MonitorTarget("master-1", new UnreachableTarget());
        }

        public void Dispose() => _manager.Stop();
    }

    private sealed class UnreachableTarget : IHeartbeatTarget<string>
    {
        public ValueTask ReceiveHeartbeatAsync(string originId, string payload, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask RequestHeartbeatAsync(string requestOriginId, string payload, CancellationToken cancellationToken) =>
            ValueTask.FromException(new RecipientUnreachableException());
    }

    private sealed class ReconnectOnLoss(RegisteredConnection<ControlledGateway, string, string> connection) : IHeartbeatListener<string, string>
    {
        public void OnHeartbeatTimeout(string targetId) => connection.OnTargetLost();

        public void OnTargetUnreachable(string targetId) => connection.OnTargetLost();

        public void ReportPayload(string targetId, string payload)
        {
        }

        public string RetrievePayload(string targetId) => "report";
    }

    private sealed class NoOpTarget : IHeartbeatTarget<string>
    {
        public ValueTask ReceiveHeartbeatAsync(string originId, string payload, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask RequestHeartbeatAsync(string requestOriginId, string payload, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}
