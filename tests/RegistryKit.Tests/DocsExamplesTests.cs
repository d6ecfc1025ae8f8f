using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RegistryKit.Hosting;
using RegistryKit.Discovery;
using RegistryKit.InMemory;
using RegistryKit.Registry;
using RegistryKit.Reporting;
using RegistryKit.Testing;
using RegistryKit.Tests.Support;
using RegistryKit.Timers;

namespace RegistryKit.Tests;

/// <summary>The code shown in README.md and docs/, run as written, so the documentation stays true.</summary>
public class DocsExamplesTests
{
    [Test]
    public void Readme_Taste()
    {
        ServiceUrl provider = ServiceUrl.Parse("dubbo://10.0.0.7:20880/com.example.Greeter?version=1.0&group=blue");
        ServiceUrl subscription = ServiceUrl.Parse("consumer://10.0.0.9/com.example.Greeter?version=1.0&group=blue,green");
        bool wanted = subscription.Matches(provider);
        string key = provider.ServiceKey;

        using var timer = new HashedWheelTimer();
        WheelTimeout retry = timer.NewTimeout(_ => Console.WriteLine("retry"), TimeSpan.FromSeconds(5));
        bool cancelled = retry.Cancel();

        Assert.That(wanted, Is.True);
        Assert.That(key, Is.EqualTo("blue/com.example.Greeter:1.0"));
        Assert.That(cancelled, Is.True);
    }

    [Test]
    [CancelAfter(20_000)]
    public async Task Hosting_Example()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Configuration["RegistryKit:CacheEnabled"] = "false"; // the test only: no cache file under the user's profile
        builder.Services.AddRegistry()
            .UseInMemory()
            .AddRegistration("greeter", o => o.Port = 8080);
        builder.Services.AddHealthChecks().AddRegistryKit();
        using IHost app = builder.Build();
        await app.StartAsync();

        ServiceRegistrations registrations = app.Services.GetRequiredService<ServiceRegistrations>();
        await VirtualTimeDriver.WaitUntilAsync(() => registrations.GetStatus()[0].State == RegistrationState.Registered);
        await registrations.GoOfflineAsync();
        Assert.That(registrations.GetStatus()[0].State, Is.EqualTo(RegistrationState.Offline));
        await registrations.GoOnlineAsync();
        IReadOnlyList<ServiceRegistrationStatus> states = registrations.GetStatus();

        Assert.That(states[0].Url!.ToString(), Does.StartWith($"http://{System.Net.Dns.GetHostName()}:8080/greeter?"));
        Assert.That(states[0].State, Is.EqualTo(RegistrationState.Registered));
        await app.StopAsync();
    }

    [Test]
    public void Testing_VirtualTime()
    {
        var time = new ManualTimeProvider();
        using var timer = new HashedWheelTimer(time);
        bool fired = false;
        timer.NewTimeout(_ => fired = true, TimeSpan.FromSeconds(5));

        time.Advance(TimeSpan.FromSeconds(5));
        Assert.That(fired, Is.True);
    }

    [Test]
    [CancelAfter(20_000)]
    public async Task Registry_Example()
    {
        string cacheDirectory = Path.Combine(Path.GetTempPath(), "registrykit-tests", Guid.NewGuid().ToString("N"));
        var myListener = new RecordingListener();

        using var server = new InMemoryRegistryServer();
        await using (var factory = new RegistryFactory(
            [new("memory", new InMemoryRegistryTransportFactory(server))],
            new RegistryOptions { Check = false, CacheDirectory = cacheDirectory }))
        {
            IRegistry registry = await factory.GetRegistryAsync(ServiceUrl.Parse("memory://?application=greeter"));
            await registry.RegisterAsync(ServiceUrl.Parse("dubbo://10.0.0.7:20880/com.example.Greeter?version=1.0"));
            await registry.SubscribeAsync(ServiceUrl.Parse("consumer://10.0.0.9/com.example.Greeter?version=1.0"), myListener);

            await myListener.WaitForAsync(list => list.Count == 1 && list[0].Port == 20880);
        }

        Directory.Delete(cacheDirectory, recursive: true);
    }

    [Test]
    public async Task MasterWorker_ServerDiscovery()
    {
        using var timer = new HashedWheelTimer(new ManualTimeProvider());
        IServerDiscoveryClient serverClient = new SelfConfirmingServers();
        IServerDiscoveryListener? listener = null;
        CancellationToken cancellationToken = TestContext.CurrentContext.CancellationToken;

        await using var discovery = new ServerDiscovery(
            ["http://10.0.0.5:7700", "http://10.0.0.6:7700"], "shop", serverClient, timer, listener: listener);
        await discovery.StartAsync(cancellationToken);      // asserts the app, runs the first round
        string? server = discovery.CurrentServer;           // the server that confirmed it is responsible

        Assert.That(server, Is.EqualTo("http://10.0.0.5:7700").Or.EqualTo("http://10.0.0.6:7700"));
    }

    /// <summary>Servers that know every app and each name themselves as responsible.</summary>
    private sealed class SelfConfirmingServers : IServerDiscoveryClient
    {
        public ValueTask<AppAssertion> AssertAppAsync(string server, string appName, CancellationToken cancellationToken) =>
            ValueTask.FromResult(AppAssertion.Registered("1"));

        public ValueTask<string> AcquireServerAsync(string server, string appId, string? currentServer, CancellationToken cancellationToken) =>
            ValueTask.FromResult(server);
    }

    [Test]
    [CancelAfter(20_000)]
    public async Task Reporting_Example()
    {
        var uploader = new RecordingUploader();
        HealthReport? payload;

        using (var timer = new HashedWheelTimer())
        {
            await using var queue = new UploadQueue<HealthReport>(uploader, timer);
            await using var reporter = new HealthReporter(
                timer,
                new SystemMetricsCollector(diskPath: Path.GetTempPath()),
                sink: new QueueSink(queue));
            reporter.Start();

            payload = reporter.Latest;
        }

        Assert.That(payload, Is.Not.Null);
        Assert.That(payload!.Sequence, Is.EqualTo(1));
        Assert.That(payload.Metrics.DiskTotalBytes, Is.Positive);
        Assert.That(uploader.Uploaded, Has.Some.SameAs(payload), "the queue's final flush uploaded the report");
    }

    private sealed class QueueSink(UploadQueue<HealthReport> queue) : IHealthReportSink
    {
        public ValueTask SendAsync(HealthReport report, CancellationToken cancellationToken)
        {
            queue.Enqueue(report);
            return ValueTask.CompletedTask;
        }
    }

    private sealed class RecordingUploader : IBatchUploader<HealthReport>
    {
        public List<HealthReport> Uploaded { get; } = [];

        public ValueTask<UploadOutcome> UploadAsync(IReadOnlyList<HealthReport> batch, CancellationToken cancellationToken)
        {
            lock (Uploaded)
            {
                Uploaded.AddRange(batch);
            }

            return ValueTask.FromResult(UploadOutcome.Uploaded);
        }
    }

    [Test]
    public async Task Registry_InAContainer()
    {
        var services = new ServiceCollection();

        services.AddRegistry(options => options.RetryPeriod = TimeSpan.FromSeconds(10))
                .UseInMemory();                                        // memory:// from one in-process server
        services.AddRegistry("edge").AddTransport<MyTransportFactory>("my-scheme");

        await using ServiceProvider provider = services.BuildServiceProvider();
        RegistryFactory factory = provider.GetRequiredService<RegistryFactory>();           // the default registry
        RegistryFactory edge = provider.GetRequiredKeyedService<RegistryFactory>("edge");   // a named one

        Assert.That(factory.Schemes, Is.EqualTo(new[] { "memory" }));
        Assert.That(provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<RegistryOptions>>().Value.RetryPeriod, Is.EqualTo(TimeSpan.FromSeconds(10)));
        Assert.That(edge.Schemes, Is.EqualTo(new[] { "my-scheme" }));
    }

    private sealed class MyTransportFactory : RegistryKit.Transport.IRegistryTransportFactory
    {
        public RegistryKit.Transport.IRegistryTransport CreateTransport(ServiceUrl registryUrl) => throw new NotSupportedException();
    }
}
