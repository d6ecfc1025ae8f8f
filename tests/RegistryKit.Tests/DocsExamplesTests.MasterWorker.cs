using RegistryKit.Heartbeat;
using RegistryKit.Masters;
using RegistryKit.Registration;
using RegistryKit.Reporting;
using RegistryKit.Testing;
using RegistryKit.Tests.Support;
using RegistryKit.Timers;

namespace RegistryKit.Tests;

/// <summary>The code of docs/master-worker.md, run as written.</summary>
public partial class DocsExamplesTests
{
    [Test]
    [CancelAfter(20_000)]
    public async Task MasterWorker_RetryingRegistration()
    {
        var time = new ManualTimeProvider();

        var registration = new RetryingRegistration<MasterClient, WorkerSlot, string>(
            "http://master-1:8080",
            fencingToken: Guid.NewGuid(),
            connectAsync: (address, ct) => MasterClient.ConnectAsync(address, ct),
            registerAsync: (master, attempt, ct) => master.RegisterWorkerAsync(attempt.FencingToken, attempt.Timeout, ct),
            new RetryingRegistrationOptions(),        // Flink's defaults
            time);                                    // TimeProvider.System, or a ManualTimeProvider in a test
        registration.Start();
        RegistrationResult<MasterClient, WorkerSlot, string> result = await registration.Completion;

        Assert.That(result.Gateway.Address, Is.EqualTo("http://master-1:8080"));
        Assert.That(result.Response.SuccessValue, Is.EqualTo(new WorkerSlot(registration.FencingToken)));
        Assert.That(registration.Attempts, Is.EqualTo(1));
        registration.Dispose();
    }

    [Test]
    [CancelAfter(20_000)]
    public async Task MasterWorker_ReconnectOnLoss()
    {
        var time = new ManualTimeProvider();
        using var timer = new HashedWheelTimer(time);
        await using var reporter = new HealthReporter(timer, timeProvider: time);
        reporter.Start();
        var registered = new RegistrationCounter();
        using var connection = new RegisteredConnection<MasterClient, WorkerSlot, string>(
            "http://master-1:8080",
            MasterClient.ConnectAsync,
            (master, attempt, ct) => master.RegisterWorkerAsync(attempt.FencingToken, attempt.Timeout, ct),
            registered,
            timer,
            time);
        connection.Start();
        await VirtualTimeDriver.WaitUntilAsync(() => registered.Successes == 1);

        IHeartbeatListener<Ack, HealthReport?> listener = new ReconnectOnLoss(connection, reporter);
        listener.OnHeartbeatTimeout("master-1");
        await VirtualTimeDriver.WaitUntilAsync(() => registered.Successes == 2);

        Assert.That(listener.RetrievePayload("master-1"), Is.SameAs(reporter.Latest).And.Not.Null);
        Assert.That(connection.IsConnected, Is.True);
    }

    // As shown in master-worker.md, but private.
    private sealed class ReconnectOnLoss(RegisteredConnection<MasterClient, WorkerSlot, string> connection, HealthReporter reporter)
        : IHeartbeatListener<Ack, HealthReport?>
    {
        public void OnHeartbeatTimeout(string targetId) => connection.OnTargetLost();
        public void OnTargetUnreachable(string targetId) => connection.OnTargetLost();
        public void ReportPayload(string targetId, Ack payload) { }
        public HealthReport? RetrievePayload(string targetId) => reporter.Latest;   // health reports ride on heartbeats
    }

    [Test]
    [CancelAfter(20_000)]
    public async Task MasterWorker_MultiMasterRegistration()
    {
        var time = new ManualTimeProvider(new DateTimeOffset(2026, 11, 21, 14, 30, 0, TimeSpan.Zero));
        using var timer = new HashedWheelTimer(time);
        IMasterClient masterClient = new AcceptingMasters();
        var listener = new RegisteredListener();

        string workerId = WorkerId.Create(time, "10.0.0.5", 7078);   // worker-20261121143000-10.0.0.5-7078
        await using var registration = new MultiMasterRegistration(
            ["spark://master-1:7077", "spark://master-2:7077"], workerId, masterClient, listener, timer, time);
        registration.Start();

        await VirtualTimeDriver.WaitUntilAsync(() => registration.IsRegistered);
        Assert.That(workerId, Is.EqualTo("worker-20261121143000-10.0.0.5-7078"));
        Assert.That(registration.ActiveMaster, Is.EqualTo("spark://master-1:7077").Or.EqualTo("spark://master-2:7077"));
    }

    /// <summary>Stands for the worker's connection to its master (master-worker.md): connects, and registers the worker at once.</summary>
    private sealed class MasterClient(string address)
    {
        public string Address { get; } = address;

        public static ValueTask<MasterClient> ConnectAsync(string address, CancellationToken cancellationToken) =>
            ValueTask.FromResult(new MasterClient(address));

        /// <summary>One registration call, which a real client bounds by <paramref name="timeout"/>; this master accepts at once.</summary>
        public ValueTask<RegistrationResponse<WorkerSlot, string>> RegisterWorkerAsync(Guid fencingToken, TimeSpan timeout, CancellationToken cancellationToken) =>
            ValueTask.FromResult(RegistrationResponse<WorkerSlot, string>.Success(new WorkerSlot(fencingToken)));
    }

    /// <summary>Stands for what a master gives a registered worker.</summary>
    private sealed record WorkerSlot(Guid FencingToken);

    private sealed class RegistrationCounter : IRegisteredConnectionListener<MasterClient, WorkerSlot, string>
    {
        private int _successes;

        public int Successes => Volatile.Read(ref _successes);

        public void OnRegistrationSuccess(MasterClient gateway, WorkerSlot success) => Interlocked.Increment(ref _successes);

        public void OnRegistrationRejection(string rejection)
        {
        }

        public void OnRegistrationFailure(Exception failure)
        {
        }

        public void OnRegistrationTimeout(TimeSpan maxDuration)
        {
        }
    }

    /// <summary>Masters that each accept the worker as active and take every heartbeat.</summary>
    private sealed class AcceptingMasters : IMasterClient
    {
        public ValueTask<MasterRegistrationResponse> RegisterAsync(string masterAddress, string workerId, CancellationToken cancellationToken) =>
            ValueTask.FromResult(MasterRegistrationResponse.Registered);

        public ValueTask<MasterHeartbeatResponse> HeartbeatAsync(string masterAddress, string workerId, HealthReport? report, CancellationToken cancellationToken) =>
            ValueTask.FromResult(MasterHeartbeatResponse.Ok);
    }

    private sealed class RegisteredListener : IMultiMasterListener
    {
        public ValueTask OnRegisteredAsync(string masterAddress, bool duplicate, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public void OnRefused(string masterAddress)
        {
        }

        public void OnGaveUp(int attempts)
        {
        }
    }
}
