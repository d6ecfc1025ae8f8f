using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RegistryKit.Hosting;
using RegistryKit.InMemory;
using RegistryKit.Registry;
using RegistryKit.Testing;
using RegistryKit.Tests.Support;

namespace RegistryKit.Tests.Hosting;

/// <summary>The hosted registration and the health check, in a real Generic Host on the in-memory registry and virtual time.</summary>
[CancelAfter(30_000)]
public class HostedRegistrationTests
{
    private ManualTimeProvider _time = null!;
    private CollectingLoggerProvider _logs = null!;

    [SetUp]
    public void SetUp()
    {
        _time = new ManualTimeProvider();
        _logs = new CollectingLoggerProvider();
    }

    [TearDown]
    public void TearDown() => _logs.Dispose();

    [Test]
    public async Task Start_WhileTheRegistryIsDown_NeitherBlocksNorFails_AndRegistersOnceItIsBack()
    {
        using IHost host = Build(b =>
        {
            b.Services.AddRegistry(NoCache).UseInMemory().AddRegistration("greeter", At8080);
            b.Services.AddHealthChecks().AddRegistryKit();
        });
        InMemoryRegistryServer server = host.Services.GetRequiredService<InMemoryRegistryServer>();
        server.Faults.MakeUnreachable(TimeSpan.FromSeconds(30));

        await host.StartAsync();
        ServiceRegistrations registrations = host.Services.GetRequiredService<ServiceRegistrations>();
        await VirtualTimeDriver.WaitUntilAsync(() => registrations.GetStatus()[0].State == RegistrationState.Registered);

        Assert.That(Providers(server), Is.Empty, "the registry is down");
        HealthReport down = await CheckHealthAsync(host);
        Assert.That(down.Status, Is.EqualTo(HealthStatus.Degraded));
        Assert.That(down.Entries["registrykit"].Data["retries_pending_register"], Is.EqualTo(1));

        await _time.AdvanceInStepsAsync(TimeSpan.FromSeconds(90), TimeSpan.FromSeconds(1));
        await VirtualTimeDriver.WaitUntilAsync(() => Providers(server).Count == 1);

        Assert.That(Providers(server).Single(), Does.StartWith("http://10.0.0.7:8080/greeter?"));
        Assert.That(Providers(server).Single(), Does.Contain("application=orders"), "the host's application name is registered");
        Assert.That((await CheckHealthAsync(host)).Status, Is.EqualTo(HealthStatus.Healthy));
        await host.StopAsync();
    }

    [Test]
    public async Task Stop_DeregistersWhatItRegistered_BeforeTheRegistryIsDisposed()
    {
        using IHost host = Build(b => FaultyInMemory(b.Services.AddRegistry(NoCache)).AddRegistration("greeter", At8080));
        InMemoryRegistryServer server = host.Services.GetRequiredService<InMemoryRegistryServer>();
        await host.StartAsync();
        ServiceRegistrations registrations = host.Services.GetRequiredService<ServiceRegistrations>();
        await VirtualTimeDriver.WaitUntilAsync(() => Providers(server).Count == 1);

        await host.StopAsync();

        Assert.That(Providers(server), Is.Empty);
        Assert.That(registrations.GetStatus()[0].State, Is.EqualTo(RegistrationState.Deregistered));
        Assert.That(Faults(host).Unregisters, Is.EqualTo(1));
        Assert.That(_logs.Entries.Select(e => e.EventId.Name), Does.Contain("ServiceDeregistered"));
    }

    [Test]
    public async Task Stop_NeverDeregistersWhatItDidNotRegister()
    {
        using IHost host = Build(b => FaultyInMemory(b.Services.AddRegistry(NoCache)).AddRegistration("greeter", At8080));
        ServiceRegistrations registrations = host.Services.GetRequiredService<ServiceRegistrations>();
        await registrations.GoOfflineAsync();

        await host.StartAsync();
        await VirtualTimeDriver.WaitUntilAsync(() => registrations.GetStatus()[0].State == RegistrationState.Offline);
        await host.StopAsync();

        Assert.That(Faults(host).RegistersStarted, Is.Zero);
        Assert.That(Faults(host).Unregisters, Is.Zero, "Steeltoe #1705: no deregistration for an instance never registered");
        Assert.That(_logs.Entries.Select(e => e.EventId.Name), Does.Contain("ServiceNotDeregistered"));
    }

    [Test]
    public async Task Stop_WhenTheRegistryHangs_DeregistrationIsBoundedByItsTimeout()
    {
        using IHost host = Build(b => b.Services.AddRegistry(NoCache).UseInMemory()
            .AddRegistration("greeter", o => { At8080(o); o.DeregisterTimeout = TimeSpan.FromSeconds(2); }));
        InMemoryRegistryServer server = host.Services.GetRequiredService<InMemoryRegistryServer>();
        await host.StartAsync();
        await VirtualTimeDriver.WaitUntilAsync(() => Providers(server).Count == 1);
        server.Faults.CallDelay = TimeSpan.FromMinutes(10);

        Task stopping = host.StopAsync();
        await _time.AdvanceInStepsAsync(TimeSpan.FromSeconds(1.9), TimeSpan.FromMilliseconds(100));
        Assert.That(stopping.IsCompleted, Is.False, "still within the deregistration timeout");
        await _time.AdvanceInStepsAsync(TimeSpan.FromSeconds(0.2), TimeSpan.FromMilliseconds(100));
        await stopping;

        Assert.That(_logs.Entries.Select(e => e.EventId.Name), Does.Contain("ServiceDeregisterTimedOut"));

        // Disposing the host closes the session; let that call through.
        server.Faults.CallDelay = TimeSpan.Zero;
    }

    [Test]
    public async Task OfflineThenOnline_TakesTheServiceOutAndPutsItBack_WithoutARestart()
    {
        using IHost host = Build(b =>
        {
            b.Services.AddRegistry(NoCache).UseInMemory().AddRegistration("greeter", At8080).AddRegistration("billing", o => o.Port = 9090);
            b.Services.AddHealthChecks().AddRegistryKit();
        });
        InMemoryRegistryServer server = host.Services.GetRequiredService<InMemoryRegistryServer>();
        ServiceRegistrations registrations = host.Services.GetRequiredService<ServiceRegistrations>();
        await host.StartAsync();
        await VirtualTimeDriver.WaitUntilAsync(() => Providers(server).Count == 2);

        await registrations.GoOfflineAsync();

        Assert.That(Providers(server), Is.Empty);
        Assert.That(registrations.IsOnline, Is.False);
        Assert.That(registrations.GetStatus().Select(s => s.State), Is.All.EqualTo(RegistrationState.Offline));
        HealthReport offline = await CheckHealthAsync(host);
        Assert.That(offline.Status, Is.EqualTo(HealthStatus.Healthy), "offline is deliberate, not a fault");
        Assert.That(offline.Entries["registrykit"].Description, Does.StartWith("Offline on purpose"));

        await registrations.GoOnlineAsync();

        Assert.That(Providers(server), Has.Count.EqualTo(2));
        Assert.That(registrations.GetStatus().Select(s => s.State), Is.All.EqualTo(RegistrationState.Registered));
        await host.StopAsync();
        Assert.That(Providers(server), Is.Empty);
    }

    [Test]
    public async Task Health_IsHealthyWhenRegistered_DegradedWhenHeartbeatsFail_UnhealthyPastTheThreshold()
    {
        using IHost host = Build(b =>
        {
            b.Services.AddRegistry(NoCache).UseInMemory().AddRegistration("greeter", At8080);
            b.Services.AddHealthChecks().AddRegistryKit(configure: o => o.UnhealthyAfter = TimeSpan.FromSeconds(20));
        });
        InMemoryRegistryServer server = host.Services.GetRequiredService<InMemoryRegistryServer>();
        await host.StartAsync();
        await VirtualTimeDriver.WaitUntilAsync(() => Providers(server).Count == 1);
        await _time.AdvanceInStepsAsync(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(1));

        HealthReport healthy = await CheckHealthAsync(host);
        Assert.That(healthy.Status, Is.EqualTo(HealthStatus.Healthy), healthy.Entries["registrykit"].Description);
        Assert.That(healthy.Entries["registrykit"].Data["registrations_registered"], Is.EqualTo(1));
        Assert.That(healthy.Entries["registrykit"].Data["registries_available"], Is.EqualTo(1));

        // Down: heartbeats (every 5 s) fail; after three the session is lost and the registry counts as unreachable.
        server.Faults.MakeUnreachable(TimeSpan.FromMinutes(10));
        await _time.AdvanceInStepsAsync(TimeSpan.FromSeconds(11), TimeSpan.FromSeconds(1));
        HealthReport late = await CheckHealthAsync(host);
        Assert.That(late.Status, Is.EqualTo(HealthStatus.Degraded));
        Assert.That(late.Entries["registrykit"].Description, Does.Contain("heartbeats late"));

        await _time.AdvanceInStepsAsync(TimeSpan.FromSeconds(40), TimeSpan.FromSeconds(1));
        HealthReport unhealthy = await CheckHealthAsync(host);
        Assert.That(unhealthy.Status, Is.EqualTo(HealthStatus.Unhealthy));
        Assert.That(unhealthy.Entries["registrykit"].Description, Does.Contain("unreachable"));
        Assert.That((double)unhealthy.Entries["registrykit"].Data["seconds_unreachable"], Is.GreaterThanOrEqualTo(20));

        server.Faults.Clear();
        await _time.AdvanceInStepsAsync(TimeSpan.FromSeconds(90), TimeSpan.FromSeconds(1));
        Assert.That((await CheckHealthAsync(host)).Status, Is.EqualTo(HealthStatus.Healthy));
        await host.StopAsync();
    }

    [Test]
    public async Task Health_IsUnhealthy_WhenARegistrationFailedForGood_AndStopLeavesItAlone()
    {
        using IHost host = Build(b =>
        {
            b.Services.AddSingleton<IAdvertisedAddressProvider>(new ThrowingAddressProvider());
            FaultyInMemory(b.Services.AddRegistry(NoCache)).AddRegistration("greeter");
            b.Services.AddHealthChecks().AddRegistryKit();
        });
        ServiceRegistrations registrations = host.Services.GetRequiredService<ServiceRegistrations>();
        await host.StartAsync();
        await VirtualTimeDriver.WaitUntilAsync(() => registrations.GetStatus()[0].State == RegistrationState.Failed);

        HealthReport report = await CheckHealthAsync(host);
        Assert.That(report.Status, Is.EqualTo(HealthStatus.Unhealthy));
        Assert.That(report.Entries["registrykit"].Data["registrations_failed"], Is.EqualTo(1));
        Assert.That(registrations.GetStatus()[0].Error, Does.Contain("no address yet"));
        Assert.That(_logs.Entries.Single(e => e.EventId.Name == "ServiceRegistrationFailed").Level, Is.EqualTo(LogLevel.Error));

        await host.StopAsync();
        Assert.That(Faults(host).Unregisters, Is.Zero);
    }

    [Test]
    public async Task AdvertisedAddress_ComesFromTheProvider_WhenOptionsLeaveItUnset()
    {
        using IHost host = Build(b =>
        {
            b.Services.AddSingleton<IAdvertisedAddressProvider>(new FixedAddressProvider(new AdvertisedAddress("orders-3.internal", 7443)));
            b.Services.AddRegistry(NoCache).UseInMemory().AddRegistration("greeter", o =>
            {
                o.Protocol = "grpc";
                o.Version = "2.0";
                o.Parameters["weight"] = "50";
            });
        });
        InMemoryRegistryServer server = host.Services.GetRequiredService<InMemoryRegistryServer>();
        await host.StartAsync();
        await VirtualTimeDriver.WaitUntilAsync(() => Providers(server).Count == 1);

        ServiceUrl registered = ServiceUrl.Parse(Providers(server).Single());
        Assert.That(registered.ToFullString(), Does.StartWith("grpc://orders-3.internal:7443/greeter?"));
        Assert.That(registered.Version, Is.EqualTo("2.0"));
        Assert.That(registered.GetParameter("weight"), Is.EqualTo("50"));
        await host.StopAsync();
    }

    [Test]
    public void Start_WithInvalidRegistryAndRegistrationOptions_ReportsEveryFailureByItsConfigurationKey()
    {
        using IHost host = Build(
            b => b.Services.AddRegistry().UseInMemory().AddRegistration("greeter"),
            new Dictionary<string, string?>
            {
                ["RegistryKit:RetryPeriod"] = "00:00:00",
                ["RegistryKit:Address"] = "etcd://127.0.0.1:2379",
                ["RegistryKit:Registrations:greeter:Port"] = "70000",
                ["RegistryKit:Registrations:greeter:Protocol"] = "1http",
            });

        // Two options types fail, so the host reports both at once.
        var error = Assert.ThrowsAsync<AggregateException>(() => host.StartAsync());

        Assert.That(error!.InnerExceptions, Has.All.TypeOf<OptionsValidationException>());
        Assert.That(error.Message, Does.Contain("RegistryKit:RetryPeriod is 00:00:00; it must be positive."));
        Assert.That(error.Message, Does.Contain("RegistryKit:Address is 'etcd://127.0.0.1:2379'; its scheme 'etcd' has no transport in this registry (it has 'memory')"));
        Assert.That(error.Message, Does.Contain("RegistryKit:Registrations:greeter:Port is 70000; it must be from 0 (none) to 65535."));
        Assert.That(error.Message, Does.Contain("RegistryKit:Registrations:greeter:Protocol is '1http'; it must be a URL scheme"));
    }

    [Test]
    public void Start_WithInvalidRegistrationOptions_FailsWithMessagesNamingTheConfigurationKeys()
    {
        using IHost host = Build(
            b => b.Services.AddRegistry("edge").UseInMemory().AddRegistration("greeter"),
            new Dictionary<string, string?>
            {
                ["RegistryKit:Registries:edge:Registrations:greeter:Port"] = "70000",
                ["RegistryKit:Registries:edge:Registrations:greeter:Protocol"] = "1http",
                ["RegistryKit:Registries:edge:Registrations:greeter:DeregisterTimeout"] = "-00:00:01",
            });

        var error = Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.That(error!.Message, Does.Contain("RegistryKit:Registries:edge:Registrations:greeter:Port is 70000; it must be from 0 (none) to 65535."));
        Assert.That(error.Message, Does.Contain("RegistryKit:Registries:edge:Registrations:greeter:Protocol is '1http'; it must be a URL scheme"));
        Assert.That(error.Message, Does.Contain("RegistryKit:Registries:edge:Registrations:greeter:DeregisterTimeout is -00:00:01; it must not be negative."));
    }

    [Test]
    public void Start_WithNoPortAndNoProvider_FailsSayingHowToFixIt()
    {
        using IHost host = Build(b => b.Services.AddRegistry().UseInMemory().AddRegistration("greeter"));

        var error = Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.That(error!.Message, Does.Contain("RegistryKit:Registrations:greeter:Port is not set and no IAdvertisedAddressProvider is registered"));
    }

    [Test]
    public void Start_WithAnUnparsableAddress_NamesTheKeyAndHidesThePassword()
    {
        using IHost host = Build(
            b => b.Services.AddRegistry().UseInMemory(),
            new Dictionary<string, string?> { ["RegistryKit:Address"] = "memory://admin:hunter2@host:99999" });

        var error = Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.That(error!.Message, Does.Contain("RegistryKit:Address is '"));
        Assert.That(error.Message, Does.Contain("it must be a registry address"));
        Assert.That(error.Message, Does.Not.Contain("hunter2"));
    }

    [Test]
    public void AddRegistration_RejectsAServiceNameThatCannotBeAPathOrASection()
    {
        var services = new ServiceCollection();
        IRegistryBuilder builder = services.AddRegistry().UseInMemory();

        var error = Assert.Throws<ArgumentException>(() => builder.AddRegistration("a:b"));

        Assert.That(error!.ParamName, Is.EqualTo("service"));
        Assert.That(error.Message, Does.Contain("without ':'"));
    }

    [Test]
    public void AddRegistration_Twice_RegistersTheServiceOnce_AndOneHostedService()
    {
        var services = new ServiceCollection();
        services.AddRegistry().UseInMemory().AddRegistration("greeter", At8080).AddRegistration("greeter", o => o.Version = "2");
        using ServiceProvider provider = services.BuildServiceProvider();

        Assert.That(provider.GetRequiredService<ServiceRegistrations>().GetStatus(), Has.Count.EqualTo(1));
        Assert.That(provider.GetServices<IHostedService>().Count(), Is.EqualTo(1));
        ServiceRegistrationOptions options = provider.GetRequiredService<IOptionsMonitor<ServiceRegistrationOptions>>().Get("/greeter");
        Assert.That((options.Port, options.Version), Is.EqualTo((8080, "2")), "both configure calls apply, in order");
    }

    [Test]
    public void AddRegistryKit_RejectsANegativeThreshold()
    {
        IHealthChecksBuilder checks = new ServiceCollection().AddHealthChecks();

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => checks.AddRegistryKit(configure: o => o.UnhealthyAfter = TimeSpan.FromSeconds(-1)));

        Assert.That(error!.ParamName, Is.EqualTo("UnhealthyAfter"));
    }

    [Test]
    public async Task GoOffline_WhenDeregistrationTimesOut_TheServiceStillLeavesTheRegistry()
    {
        using IHost host = Build(b => FaultyInMemory(b.Services.AddRegistry(NoCache))
            .AddRegistration("greeter", o => { At8080(o); o.DeregisterTimeout = TimeSpan.FromSeconds(2); }));
        InMemoryRegistryServer server = host.Services.GetRequiredService<InMemoryRegistryServer>();
        ServiceRegistrations registrations = host.Services.GetRequiredService<ServiceRegistrations>();
        await host.StartAsync();
        await VirtualTimeDriver.WaitUntilAsync(() => Providers(server).Count == 1);

        Faults(host).HangUnregister = true;
        Task offline = registrations.GoOfflineAsync().AsTask();
        await _time.AdvanceInStepsAsync(TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(500));
        await offline;
        Faults(host).HangUnregister = false;
        await _time.AdvanceInStepsAsync(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(1));

        Assert.That(registrations.GetStatus()[0].State, Is.EqualTo(RegistrationState.Offline));
        Assert.That(Providers(server), Is.Empty, "the registry client retried the deregistration in the background");
        await host.StopAsync();
    }

    [Test]
    public async Task GoOnline_WhenTheCallerStopsWaiting_RegistrationStillHappens()
    {
        using IHost host = Build(b => FaultyInMemory(b.Services.AddRegistry(NoCache)).AddRegistration("greeter", At8080));
        InMemoryRegistryServer server = host.Services.GetRequiredService<InMemoryRegistryServer>();
        ServiceRegistrations registrations = host.Services.GetRequiredService<ServiceRegistrations>();
        await host.StartAsync();
        await VirtualTimeDriver.WaitUntilAsync(() => Providers(server).Count == 1);
        await registrations.GoOfflineAsync();

        Faults(host).HangRegister = true;
        using var stopWaiting = new CancellationTokenSource();
        Task online = registrations.GoOnlineAsync(stopWaiting.Token).AsTask();
        await VirtualTimeDriver.WaitUntilAsync(() => Faults(host).RegistersStarted == 2);
        await stopWaiting.CancelAsync();
        Assert.ThrowsAsync<TaskCanceledException>(() => online);
        Faults(host).HangRegister = false;
        Faults(host).Release();

        await VirtualTimeDriver.WaitUntilAsync(() => registrations.GetStatus()[0].State == RegistrationState.Registered);
        Assert.That(Providers(server), Has.Count.EqualTo(1));
        await host.StopAsync();
    }

    [Test]
    public async Task Health_WhenKeepAlivesHang_TurnsUnhealthy_AlthoughSessionsStillOpen()
    {
        using IHost host = Build(b =>
        {
            FaultyInMemory(b.Services.AddRegistry(NoCache)).AddRegistration("greeter", At8080);
            b.Services.AddHealthChecks().AddRegistryKit();
        });
        InMemoryRegistryServer server = host.Services.GetRequiredService<InMemoryRegistryServer>();
        Faults(host).HangKeepAlive = true;
        await host.StartAsync();
        await VirtualTimeDriver.WaitUntilAsync(() => Providers(server).Count == 1);

        // Each keep-alive still unanswered at the next slot counts as failed: after three the session is given up.
        await _time.AdvanceInStepsAsync(TimeSpan.FromSeconds(11), TimeSpan.FromSeconds(1));
        Assert.That((await CheckHealthAsync(host)).Status, Is.EqualTo(HealthStatus.Degraded), "two intervals without an acknowledgement");
        await _time.AdvanceInStepsAsync(TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(1));

        HealthReport report = await CheckHealthAsync(host);
        Assert.That(report.Status, Is.EqualTo(HealthStatus.Unhealthy), report.Entries["registrykit"].Description);
        Assert.That(host.Services.GetRequiredService<RegistryFactory>().Registries.Single().GetStatus().SessionRecoveries, Is.GreaterThanOrEqualTo(1));
        Faults(host).HangKeepAlive = false;
        Faults(host).Release();
        await host.StopAsync();
    }

    [Test]
    public async Task Stop_NeverDeregistersARegistrationTheRegistryRefused()
    {
        using IHost host = Build(b => FaultyInMemory(b.Services.AddRegistry(NoCache)).AddRegistration("greeter", At8080));
        Faults(host).RefuseRegister = true;
        ServiceRegistrations registrations = host.Services.GetRequiredService<ServiceRegistrations>();
        await host.StartAsync();
        await VirtualTimeDriver.WaitUntilAsync(() => registrations.GetStatus()[0].State == RegistrationState.Failed);

        await host.StopAsync();

        Assert.That(Faults(host).Unregisters, Is.Zero);
        Assert.That(registrations.GetStatus()[0].State, Is.EqualTo(RegistrationState.Failed));
        Assert.That(registrations.GetStatus()[0].Error, Does.Contain("refuses this registration"));
    }

    [Test]
    public async Task Health_StaysHealthy_WithAHeartbeatIntervalCloseToTheTtl()
    {
        using IHost host = Build(b =>
        {
            b.Services.AddRegistry(o => { o.CacheEnabled = false; o.HeartbeatInterval = TimeSpan.FromSeconds(12); }).UseInMemory().AddRegistration("greeter", At8080);
            b.Services.AddHealthChecks().AddRegistryKit();
        });
        InMemoryRegistryServer server = host.Services.GetRequiredService<InMemoryRegistryServer>();
        await host.StartAsync();
        await VirtualTimeDriver.WaitUntilAsync(() => Providers(server).Count == 1);

        for (int second = 1; second <= 40; second++)
        {
            await _time.AdvanceInStepsAsync(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
            HealthReport report = await CheckHealthAsync(host);
            Assert.That(report.Status, Is.EqualTo(HealthStatus.Healthy), $"at {second} s: {report.Entries["registrykit"].Description}");
        }

        await host.StopAsync();
    }

    private static void NoCache(RegistryOptions options) => options.CacheEnabled = false;

    private static void At8080(ServiceRegistrationOptions options)
    {
        options.Host = "10.0.0.7";
        options.Port = 8080;
    }

    private static List<string> Providers(InMemoryRegistryServer server) =>
        [.. server.GetEntries().Where(e => e.Key.Contains("/providers/", StringComparison.Ordinal)).Select(e => e.Value)];

    private static Task<HealthReport> CheckHealthAsync(IHost host) =>
        host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();

    private static FaultyTransportFactory Faults(IHost host) => host.Services.GetRequiredService<FaultyTransportFactory>();

    /// <summary>The in-memory registry behind a transport that counts its calls and can hang or refuse them.</summary>
    private static IRegistryBuilder FaultyInMemory(IRegistryBuilder builder)
    {
        builder.Services.AddSingleton(static sp => new InMemoryRegistryServer(sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton(static sp => new FaultyTransportFactory(new InMemoryRegistryTransportFactory(sp.GetRequiredService<InMemoryRegistryServer>())));
        builder.Services.Configure<RegistryOptions>(builder.Name, o => o.Address = "memory://");
        return builder.AddTransport<FaultyTransportFactory>("memory");
    }

    private IHost Build(Action<HostApplicationBuilder> configure, Dictionary<string, string?>? configuration = null)
    {
        HostApplicationBuilder builder = TestHosts.CreateBuilder(_time, _logs, configuration);
        configure(builder);
        return builder.Build();
    }

    private sealed class ThrowingAddressProvider : IAdvertisedAddressProvider
    {
        public ValueTask<AdvertisedAddress> GetAddressAsync(CancellationToken cancellationToken) =>
            throw new InvalidOperationException("The server has no address yet.");
    }

    private sealed class FixedAddressProvider(AdvertisedAddress address) : IAdvertisedAddressProvider
    {
        public ValueTask<AdvertisedAddress> GetAddressAsync(CancellationToken cancellationToken) => ValueTask.FromResult(address);
    }
}
