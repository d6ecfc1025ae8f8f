using RegistryKit.Masters;
using RegistryKit.Registry;
using RegistryKit.Reporting;
using RegistryKit.Samples.CustomTransport.Master;
using RegistryKit.Samples.CustomTransport.Tests.Support;
using RegistryKit.Samples.CustomTransport.Transport;
using RegistryKit.Samples.CustomTransport.Worker;
using RegistryKit.Testing;
using RegistryKit.Timers;

namespace RegistryKit.Samples.CustomTransport.Tests;

/// <summary>The worker and the master over real HTTP on loopback; heartbeats, reports and sessions on virtual time.</summary>
[CancelAfter(30_000)]
public class MasterWorkerTests
{
    private static readonly TimeSpan s_step = TimeSpan.FromMilliseconds(100);

    [Test]
    public async Task Worker_HeartbeatsCarryItsHealthReports_AndItRegistersAgainAfterTheMasterRestarts()
    {
        var time = new ManualTimeProvider();
        await using MasterServer master = await MasterServer.StartAsync(timeProvider: time);
        using var timer = new HashedWheelTimer(time);
        var calls = new InFlightHandler();
        using var http = new HttpClient(calls);
        var jobs = new WorkerMetrics();
        jobs.JobRan();
        await using var reporter = new HealthReporter(
            timer, new SystemMetricsCollector(timeProvider: time), [jobs], timeProvider: time, options: new HealthReporterOptions { ReportInterval = TimeSpan.FromSeconds(1) });
        var listener = new WorkerListener(_ => { });
        await using var registration = new MultiMasterRegistration(
            [master.Address], "worker-1", new HttpMasterClient(http), listener, timer, time,
            new MultiMasterOptions { WorkerTimeout = TimeSpan.FromSeconds(4), FuzzFactor = 1.0, InitialRetryInterval = TimeSpan.FromSeconds(1), ProlongedRetryInterval = TimeSpan.FromSeconds(5) })
        {
            HealthReporter = reporter,
        };

        reporter.Start();
        registration.Start();
        await time.AdvanceUntilAsync(() => Worker(master) is { Report.Sequence: >= 3 }, s_step, calls);

        WorkerView seen = Worker(master)!;
        Assert.That(seen.Report!.Incarnation, Is.EqualTo(reporter.Incarnation));
        Assert.That(seen.Report.CustomMetrics["jobs.run"], Is.EqualTo(1));
        Assert.That(seen.Report.Metrics.ProcessorCount, Is.EqualTo(Environment.ProcessorCount));
        Assert.That(listener.Registrations, Is.EqualTo(1));

        master.Restart();
        Assert.That(Worker(master), Is.Null, "the restarted master forgot the worker");
        await time.AdvanceUntilAsync(() => Worker(master) is { Report: not null }, s_step, calls);

        // Told to reconnect by its next heartbeat, the worker registered again. (Rarely a second attempt is answered
        // "duplicate": the driver moved virtual time past the retry while the first answer was being processed.)
        Assert.That(listener.Registrations, Is.GreaterThanOrEqualTo(2));
        Assert.That(Worker(master)!.Report!.Sequence, Is.GreaterThan(seen.Report.Sequence), "the new master gets the newest report");
        Assert.That(listener.Failed, Is.False);
    }

    [Test]
    public async Task Registry_ThroughTheAdapter_RegistersAgainAfterTheMasterRestarts_AndDeregistersOnDispose()
    {
        var time = new ManualTimeProvider();
        await using MasterServer master = await MasterServer.StartAsync(timeProvider: time);
        using var timer = new HashedWheelTimer(time);
        var calls = new InFlightHandler();
        var adapter = new MasterRegistryTransportFactory(time) { CreateHandler = () => calls };
        var options = new RegistryOptions { SessionTtl = TimeSpan.FromSeconds(3), RetryPeriod = TimeSpan.FromSeconds(1), CacheEnabled = false };
        var factory = new RegistryFactory([new(MasterRegistryTransportFactory.Scheme, adapter)], options, time, timer);
        IRegistry registry = await factory.GetRegistryAsync(ServiceUrl.Parse($"mymaster://127.0.0.1:{master.Port}/tests"));
        ServiceUrl greeter = ServiceUrl.Parse("http://127.0.0.1:8080/greeter?version=1.0");

        await registry.RegisterAsync(greeter);
        Assert.That(Entries(master), Is.EqualTo(new[] { greeter.ToFullString() }));

        master.Restart();
        await time.AdvanceUntilAsync(() => Entries(master).Count == 1, s_step, calls);
        Assert.That(registry.GetStatus().SessionRecoveries, Is.EqualTo(1));

        await factory.DisposeAsync();
        Assert.That(Entries(master), Is.Empty, "deregistered, and the session closed");
    }

    private static WorkerView? Worker(MasterServer master) => master.Workers.Snapshot().SingleOrDefault();

    private static List<string> Entries(MasterServer master) => [.. master.Store.Range("/tests/").Entries];
}
