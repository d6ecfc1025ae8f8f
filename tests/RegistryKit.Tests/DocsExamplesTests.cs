using System.Diagnostics.Metrics;
using System.Reflection;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using RegistryKit.Diagnostics;
using RegistryKit.Etcd;
using RegistryKit.Heartbeat;
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
public partial class DocsExamplesTests
{
    private string? _workingDirectory;
    private string? _emptyContentRoot;

    /// <summary>
    /// The snippets build hosts with <c>Host.CreateApplicationBuilder</c>, whose content root is the working directory.
    /// This test project's output also holds the WorkerService sample's appsettings.json (it references the sample), and
    /// the snippets must not pick those settings up: they run in an empty folder instead, as in a new app.
    /// </summary>
    [OneTimeSetUp]
    public void RunInAnEmptyFolder()
    {
        _workingDirectory = Environment.CurrentDirectory;
        _emptyContentRoot = Directory.CreateTempSubdirectory("registrykit-docs-").FullName;
        Environment.CurrentDirectory = _emptyContentRoot;
    }

    [OneTimeTearDown]
    public void RestoreTheWorkingDirectory()
    {
        Environment.CurrentDirectory = _workingDirectory!;
        Directory.Delete(_emptyContentRoot!, recursive: true);
    }

    [Test]
    public void ServiceUrl_Example()
    {
        ServiceUrl provider = ServiceUrl.Parse("dubbo://10.0.0.7:20880/com.example.Greeter?version=1.0&group=blue");
        ServiceUrl subscription = ServiceUrl.Parse("consumer://10.0.0.9/com.example.Greeter?version=1.0&group=blue,green");
        bool wanted = subscription.Matches(provider);
        string key = provider.ServiceKey;

        Assert.That(wanted, Is.True);
        Assert.That(key, Is.EqualTo("blue/com.example.Greeter:1.0"));
    }

    [Test]
    public void Timer_Example()
    {
        var time = new ManualTimeProvider();
        var myTask = new CountingTask();

        using var timer = new HashedWheelTimer(time, new HashedWheelTimerOptions
        {
            TickDuration = TimeSpan.FromMilliseconds(100),
            WheelSize = 8192,
        });

        WheelTimeout timeout = timer.NewTimeout(myTask, TimeSpan.FromSeconds(5));
        bool cancelled = timeout.Cancel();
        time.Advance(TimeSpan.FromSeconds(6));

        Assert.That(cancelled, Is.True);
        Assert.That(myTask.Runs, Is.Zero);
    }

    private sealed class CountingTask : ITimerTask
    {
        public int Runs { get; private set; }

        public void Run(WheelTimeout timeout) => Runs++;
    }

    [Test]
    [CancelAfter(20_000)]
    public async Task Hosting_Example()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddJsonStream(JsonBlockOf("hosting.md", 0));   // the page's appsettings.json
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
        Assert.That((states[0].Url!.Version, states[0].Url!.GetParameter("weight")), Is.EqualTo(("1.0", "50")));
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

    [Test]
    [CancelAfter(20_000)]
    public async Task Reporting_HealthReporter()
    {
        var time = new ManualTimeProvider();
        using var timer = new HashedWheelTimer(time);
        var uploader = new RecordingUploader();
        await using var queue = new UploadQueue<HealthReport>(uploader, timer, time);

        await using var reporter = new HealthReporter(
            timer,                                                   // the process's shared HashedWheelTimer
            new SystemMetricsCollector(diskPath: "/var/lib/worker"),
            sources: [new RunningTasks()],                           // your IHealthMetricsSource implementations
            sink: new QueueSink(queue),                              // optional
            timeProvider: time);                                     // the clock the timer runs on
        reporter.Start();

        Assert.That(reporter.Latest!.Sequence, Is.EqualTo(1));
        Assert.That(reporter.Latest.CustomMetrics["tasks.running"], Is.EqualTo(3));
        await VirtualTimeDriver.WaitUntilAsync(() => queue.Enqueued == 1);
    }

    /// <summary>Stands for one of the host's own sources (reporting.md).</summary>
    private sealed class RunningTasks : IHealthMetricsSource
    {
        public void Collect(IDictionary<string, double> metrics) => metrics["tasks.running"] = 3;
    }

    [Test]
    [CancelAfter(20_000)]
    public async Task Reporting_UploadQueue()
    {
        var time = new ManualTimeProvider();
        using var timer = new HashedWheelTimer(time);
        var uploader = new RecordingUploader();
        var report = new HealthReport(Guid.NewGuid(), 1, TimeSpan.Zero, new SystemMetricsCollector(timeProvider: time).Collect(), customMetrics: null);

        {
            // uploader: your IBatchUploader<HealthReport>; timer and time: the shared wheel and the clock it runs on
            await using var queue = new UploadQueue<HealthReport>(uploader, timer, time);
            queue.Enqueue(report);                                                    // never blocks
        }

        Assert.That(uploader.Uploaded, Is.EqualTo(new[] { report }), "the final flush uploaded it");
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

    [Test]
    [CancelAfter(20_000)]
    public async Task Readme_Example()
    {
        string[] args = [];
        var time = new ManualTimeProvider();
        var printProviders = new PrintProviders();

        HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
        builder.Configuration["RegistryKit:CacheEnabled"] = "false"; // the test only: no cache file under the user's profile
        builder.Services.AddSingleton<TimeProvider>(time);            // the test only: virtual time
        builder.Services.AddRegistry()
            .UseInMemory()
            .AddRegistration("greeter", o => o.Port = 8080);
        using IHost app = builder.Build();
        await app.StartAsync();

        RegistryFactory factory = app.Services.GetRequiredService<RegistryFactory>();
        IRegistry registry = await factory.GetRegistryAsync();
        await registry.SubscribeAsync(ServiceUrl.Parse("consumer://10.0.0.9/greeter"), printProviders);

        // Instead of WaitForShutdownAsync: the listener hears this host, then the host stops.
        await printProviders.Heard.WaitForAsync(list => list.Count == 1 && list[0].Port == 8080 && list[0].ServiceInterface == "greeter");
        await app.StopAsync();
    }

    /// <summary>The README's listener, which also records what it printed.</summary>
    private sealed class PrintProviders : INotifyListener
    {
        public RecordingListener Heard { get; } = new();

        public ValueTask NotifyAsync(IReadOnlyList<ServiceUrl> urls, CancellationToken cancellationToken)
        {
            Console.WriteLine($"greeter providers: {string.Join(", ", urls)}");
            return Heard.NotifyAsync(urls, cancellationToken);
        }
    }

    [Test]
    [CancelAfter(20_000)]
    public async Task GettingStarted_WithoutAHost()
    {
        IReadOnlyList<ServiceUrl> providers;

        using (var server = new InMemoryRegistryServer())
        {
            await using var factory = new RegistryFactory(
                [new("memory", new InMemoryRegistryTransportFactory(server))],
                new RegistryOptions { CacheEnabled = false });                // the test only: no cache file
            IRegistry registry = await factory.GetRegistryAsync(ServiceUrl.Parse("memory://?application=shop"));

            await registry.RegisterAsync(ServiceUrl.Parse("http://10.0.0.7:8080/greeter?version=1.0"));
            providers = await registry.LookupAsync(ServiceUrl.Parse("consumer://10.0.0.9/greeter?version=1.0"));
            Console.WriteLine(providers[0]);
        }

        Assert.That(providers.Select(p => p.ToString()), Is.EqualTo(new[] { "http://10.0.0.7:8080/greeter?version=1.0" }));
    }

    [Test]
    public async Task GettingStarted_Etcd()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddJsonStream(JsonBlockOf("getting-started.md", 0));
        builder.Services.AddRegistry()
            .UseEtcd()
            .AddRegistration("greeter", o => o.Port = 8080);
        builder.Services.AddHealthChecks().AddRegistryKit();
        using IHost app = builder.Build();

        RegistryFactory factory = app.Services.GetRequiredService<RegistryFactory>();
        Assert.That(factory.Schemes, Is.EqualTo(new[] { "etcd" }));
        Assert.That(factory.DefaultAddress!.Address, Is.EqualTo("10.0.0.5:2379"));
        Assert.That(factory.DefaultAddress.BackupAddresses, Is.EqualTo(new[] { "10.0.0.6:2379", "10.0.0.7:2379" }));
        await factory.DisposeAsync();
    }

    [Test]
    [CancelAfter(20_000)]
    public async Task FailbackAndRetry_Example()
    {
        var time = new ManualTimeProvider();

        using var server = new InMemoryRegistryServer(time);
        await using var factory = new RegistryFactory(
            [new("memory", new InMemoryRegistryTransportFactory(server))],
            new RegistryOptions { Check = false, CacheEnabled = false },   // CacheEnabled: the test only
            time);
        IRegistry registry = await factory.GetRegistryAsync(ServiceUrl.Parse("memory://?application=greeter"));

        server.Faults.MakeUnreachable(TimeSpan.FromSeconds(30));
        await registry.RegisterAsync(ServiceUrl.Parse("dubbo://10.0.0.7:20880/com.example.Greeter"));
        PendingRetries pending = registry.GetStatus().PendingRetries;

        Assert.That(pending.Register, Is.EqualTo(1));
        await time.AdvanceInStepsAsync(TimeSpan.FromMinutes(2), TimeSpan.FromSeconds(1));
        await VirtualTimeDriver.WaitUntilAsync(() => registry.GetStatus().PendingRetries.Register == 0 && server.GetEntries().Count == 1);
        Assert.That(server.GetEntries().Values.Single(), Does.StartWith("dubbo://10.0.0.7:20880/com.example.Greeter"));
    }

    [Test]
    public void Configuration_Example()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddJsonStream(JsonBlockOf("configuration.md", 0));

        builder.Services.AddRegistry()
            .UseInMemory()
            .AddRegistration("greeter");
        builder.Services.AddRegistry("edge")
            .UseEtcd()
            .AddRegistration("greeter");

        using IHost app = builder.Build();
        IOptionsMonitor<RegistryOptions> registries = app.Services.GetRequiredService<IOptionsMonitor<RegistryOptions>>();
        RegistryOptions main = registries.Get(Options.DefaultName);
        RegistryOptions edge = registries.Get("edge");
        Assert.That((main.Address, main.SessionTtl, main.RetryPeriod, main.Check), Is.EqualTo(("memory://", TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(5), true)));
        Assert.That((edge.Address, edge.SessionTtl, edge.Check), Is.EqualTo(("etcd://10.0.0.5:2379", TimeSpan.FromSeconds(15), false)), "a named registry does not inherit");

        // The options name of a hosted registration is "{registry}/{service}" (RegistrationDescriptor.OptionsName).
        IOptionsMonitor<ServiceRegistrationOptions> registrations = app.Services.GetRequiredService<IOptionsMonitor<ServiceRegistrationOptions>>();
        ServiceRegistrationOptions greeter = registrations.Get("/greeter");
        Assert.That((greeter.Port, greeter.Version, greeter.Parameters["weight"]), Is.EqualTo(((int?)8080, "1.0", "50")));
        Assert.That(registrations.Get("edge/greeter").Port, Is.EqualTo(8081));

        EtcdOptions etcdOptions = app.Services.GetRequiredService<IOptionsMonitor<EtcdOptions>>().Get("edge");
        Assert.That((etcdOptions.Root, etcdOptions.CallTimeout), Is.EqualTo(("/my-company", TimeSpan.FromSeconds(2))));
    }

    [Test]
    public void Configuration_ListsEveryOption()
    {
        string text = File.ReadAllText(DocPath("configuration.md"));
        Type[] optionsTypes =
        [
            .. new[] { typeof(RegistryOptions), typeof(InMemoryRegistryServer), typeof(EtcdOptions), typeof(ServiceRegistrationOptions), typeof(ManualTimeProvider) }
                .SelectMany(t => t.Assembly.GetExportedTypes())
                .Where(t => t.Name.EndsWith("Options", StringComparison.Ordinal)),
        ];
        List<string> missing = [];
        foreach (Type type in optionsTypes)
        {
            int start = text.IndexOf($"## `{type.Name}`", StringComparison.Ordinal);
            if (start < 0)
            {
                missing.Add($"no section '## `{type.Name}`'");
                continue;
            }

            int end = text.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
            string section = end < 0 ? text[start..] : text[start..end];
            missing.AddRange(type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .Where(p => !section.Contains($"`{p.Name}`", StringComparison.Ordinal))
                .Select(p => $"{type.Name}.{p.Name}"));
        }

        Assert.That(optionsTypes, Has.Length.GreaterThanOrEqualTo(13), "the options classes were found");
        Assert.That(missing, Is.Empty);
    }

    private static string DocPath(string name) => Path.Combine(HouseRulesTests.FindRepositoryRoot(), "docs", name);

    /// <summary>The <paramref name="index"/>th <c>```json</c> block of a page of docs/, so the test reads what the page shows.</summary>
    private static MemoryStream JsonBlockOf(string page, int index)
    {
        string text = File.ReadAllText(DocPath(page)).Replace("\r\n", "\n", StringComparison.Ordinal);
        string[] blocks = text.Split("```json\n");
        string block = blocks[index + 1][..blocks[index + 1].IndexOf("```", StringComparison.Ordinal)];
        return new MemoryStream(Encoding.UTF8.GetBytes(block));
    }

    [Test]
    [CancelAfter(20_000)]
    public async Task Observability_MeterListener()
    {
        var printed = new List<string>();

        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, meterListener) =>
        {
            if (instrument.Meter.Name == RegistryDiagnostics.Name)
            {
                meterListener.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, state) =>
        {
            lock (printed)
            {
                printed.Add($"{instrument.Name} {value}");   // the page prints it with Console.WriteLine
            }
        });
        listener.Start();

        using var server = new InMemoryRegistryServer(new ManualTimeProvider());
        await using (var factory = new RegistryFactory([new("memory", new InMemoryRegistryTransportFactory(server))], new RegistryOptions { CacheEnabled = false }))
        {
            IRegistry registry = await factory.GetRegistryAsync(ServiceUrl.Parse("memory://"));
            await registry.RegisterAsync(ServiceUrl.Parse("http://10.0.0.7:8080/greeter"));
        }

        lock (printed)
        {
            Assert.That(printed, Has.Some.EqualTo("registrykit.registration.attempts 1"));
        }
    }

    [Test]
    [CancelAfter(20_000)]
    public async Task SessionsAndHeartbeats_HeartbeatManager()
    {
        var time = new ManualTimeProvider();
        using var timer = new HashedWheelTimer(time);
        var listener = new LosingListener();
        IHeartbeatTarget<Ack> workerGateway = new SilentWorker();

        HeartbeatManager<HealthReport, Ack> heartbeats = HeartbeatManager.CreateSender(
            "master-1", listener, timer, time, new HeartbeatOptions());
        heartbeats.MonitorTarget("worker-7", workerGateway);

        await time.AdvanceInStepsAsync(TimeSpan.FromSeconds(51), TimeSpan.FromSeconds(1));
        await VirtualTimeDriver.WaitUntilAsync(() => listener.TimedOut.Count == 1);
        Assert.That(listener.TimedOut, Is.EqualTo(new[] { "worker-7" }));
        await heartbeats.DisposeAsync();
    }

    private sealed record Ack;

    /// <summary>A worker that takes every request and never sends a heartbeat back.</summary>
    private sealed class SilentWorker : IHeartbeatTarget<Ack>
    {
        public ValueTask ReceiveHeartbeatAsync(string originId, Ack? payload, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask RequestHeartbeatAsync(string requestOriginId, Ack? payload, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }

    private sealed class LosingListener : IHeartbeatListener<HealthReport, Ack>
    {
        public List<string> TimedOut { get; } = [];

        public void OnHeartbeatTimeout(string targetId)
        {
            lock (TimedOut)
            {
                TimedOut.Add(targetId);
            }
        }

        public void OnTargetUnreachable(string targetId)
        {
        }

        public void ReportPayload(string targetId, HealthReport? payload)
        {
        }

        public Ack RetrievePayload(string targetId) => new();
    }

    [Test]
    public void Registry_ConfigurationJson()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddJsonStream(JsonBlockOf("registry.md", 0));
        builder.Services.AddRegistry().UseInMemory();
        builder.Services.AddRegistry("edge").UseInMemory();
        using IHost app = builder.Build();

        IOptionsMonitor<RegistryOptions> registries = app.Services.GetRequiredService<IOptionsMonitor<RegistryOptions>>();
        Assert.That((registries.Get(Options.DefaultName).RetryPeriod, registries.Get(Options.DefaultName).CacheEnabled), Is.EqualTo((TimeSpan.FromSeconds(5), true)));
        Assert.That((registries.Get("edge").Check, registries.Get("edge").EmptyProtection), Is.EqualTo((false, true)));
    }

    [Test]
    public async Task Etcd_Example()
    {
        var services = new ServiceCollection();

        services.AddRegistry(o => o.Address = "etcd://10.0.0.5:2379?backup=10.0.0.6:2379,10.0.0.7:2379")
                .UseEtcd(etcd => etcd.Root = "/my-company");

        // Without a container (the page then calls GetRegistryAsync, which needs a running etcd):
        await using var factory = new RegistryFactory([new("etcd", new EtcdRegistryTransportFactory())]);

        await using ServiceProvider provider = services.BuildServiceProvider();
        RegistryFactory fromContainer = provider.GetRequiredService<RegistryFactory>();
        Assert.That(fromContainer.Schemes, Is.EqualTo(new[] { "etcd" }));
        Assert.That(fromContainer.DefaultAddress!.BackupAddresses, Is.EqualTo(new[] { "10.0.0.6:2379", "10.0.0.7:2379" }));
        Assert.That(provider.GetRequiredService<IOptions<EtcdOptions>>().Value.Root, Is.EqualTo("/my-company"));
        Assert.That(factory.Schemes, Is.EqualTo(new[] { "etcd" }));
    }

    [Test]
    public async Task Etcd_ConfigurationJson()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddJsonStream(JsonBlockOf("etcd.md", 0));
        builder.Services.AddRegistry().UseEtcd();
        using IHost app = builder.Build();

        EtcdOptions options = app.Services.GetRequiredService<IOptions<EtcdOptions>>().Value;
        Assert.That((options.Root, options.CallTimeout), Is.EqualTo(("/my-company", TimeSpan.FromSeconds(2))));
        await using RegistryFactory factory = app.Services.GetRequiredService<RegistryFactory>();
        Assert.That(factory.DefaultAddress!.Address, Is.EqualTo("10.0.0.5:2379"));
    }
}
