using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RegistryKit.InMemory;
using RegistryKit.Registry;
using RegistryKit.Testing;
using RegistryKit.Timers;
using RegistryKit.Transport;

namespace RegistryKit.Tests;

[CancelAfter(20_000)]
public class RegistryServiceCollectionExtensionsTests
{
    private static readonly ServiceUrl s_registry = ServiceUrl.Parse("memory://?application=greeter");
    private static readonly ServiceUrl s_provider = ServiceUrl.Parse("dubbo://10.0.0.7:20880/com.example.Greeter?version=1.0");
    private static readonly ServiceUrl s_consumer = ServiceUrl.Parse("consumer://10.0.0.9/com.example.Greeter?version=1.0");

    private ManualTimeProvider _time = null!;
    private ServiceCollection _services = null!;

    [SetUp]
    public void SetUp()
    {
        _time = new ManualTimeProvider();
        _services = new ServiceCollection();
        _services.AddSingleton<TimeProvider>(_time);
    }

    [Test]
    public async Task AddRegistry_UseInMemory_GivesAFactoryWhoseRegistriesWork()
    {
        _services.AddRegistry(NoCache).UseInMemory();
        await using ServiceProvider provider = _services.BuildServiceProvider();

        IRegistry registry = await provider.GetRequiredService<RegistryFactory>().GetRegistryAsync(s_registry);
        await registry.RegisterAsync(s_provider);

        Assert.That(await registry.LookupAsync(s_consumer), Is.EqualTo(new[] { s_provider }));
        Assert.That(provider.GetRequiredService<InMemoryRegistryServer>().SessionCount, Is.EqualTo(1));
    }

    [Test]
    public async Task TimeProviderAndWheel_ComeFromTheContainer_OneWheelForAll()
    {
        _services.AddRegistry(NoCache).UseInMemory();
        _services.AddRegistry("other", NoCache).UseInMemory();
        await using ServiceProvider provider = _services.BuildServiceProvider();
        HashedWheelTimer wheel = provider.GetRequiredService<HashedWheelTimer>();
        bool fired = false;
        wheel.NewTimeout(_ => fired = true, TimeSpan.FromSeconds(5));
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.That(fired, Is.True, "the wheel runs on the container's (virtual) clock");

        // Each registry's session heartbeats go on that one wheel, not on a wheel of its own.
        IRegistry first = await provider.GetRequiredService<RegistryFactory>().GetRegistryAsync(s_registry);
        await first.RegisterAsync(s_provider);
        long afterFirst = wheel.PendingTimeouts;
        IRegistry second = await provider.GetRequiredKeyedService<RegistryFactory>("other").GetRegistryAsync(s_registry);
        await second.RegisterAsync(s_provider);

        Assert.That(afterFirst, Is.Positive);
        Assert.That(wheel.PendingTimeouts, Is.GreaterThan(afterFirst));
    }

    [Test]
    public void TimeProvider_IsTheSystemClock_UnlessTheAppRegistersOne()
    {
        var services = new ServiceCollection();
        services.AddRegistry().UseInMemory();
        using ServiceProvider provider = services.BuildServiceProvider();

        Assert.That(provider.GetRequiredService<TimeProvider>(), Is.SameAs(TimeProvider.System));
    }

    [Test]
    public async Task AddRegistry_Twice_IsHarmless()
    {
        _services.AddRegistry(NoCache).UseInMemory();
        _services.AddRegistry().UseInMemory();
        await using ServiceProvider provider = _services.BuildServiceProvider();

        Assert.That(_services.Count(d => d.ServiceType == typeof(RegistryFactory) && d.IsKeyedService), Is.EqualTo(1));
        Assert.That(provider.GetServices<InMemoryRegistryServer>().Count(), Is.EqualTo(1));
        Assert.That(provider.GetRequiredService<RegistryFactory>().Schemes, Is.EqualTo(new[] { "memory" }));
    }

    [Test]
    public async Task NamedRegistries_HaveTheirOwnOptionsAndFactories()
    {
        _services.AddRegistry("edge", o => o.RetryPeriod = TimeSpan.FromSeconds(1)).UseInMemory();
        _services.AddRegistry("core", o => o.RetryPeriod = TimeSpan.FromSeconds(2)).UseInMemory();
        await using ServiceProvider provider = _services.BuildServiceProvider();

        RegistryFactory edge = provider.GetRequiredKeyedService<RegistryFactory>("edge");
        RegistryFactory core = provider.GetRequiredKeyedService<RegistryFactory>("core");
        IOptionsMonitor<RegistryOptions> options = provider.GetRequiredService<IOptionsMonitor<RegistryOptions>>();

        Assert.That(edge, Is.Not.SameAs(core));
        Assert.That(options.Get("edge").RetryPeriod, Is.EqualTo(TimeSpan.FromSeconds(1)));
        Assert.That(options.Get("core").RetryPeriod, Is.EqualTo(TimeSpan.FromSeconds(2)));
        Assert.That(provider.GetService<RegistryFactory>(), Is.Null, "no default registry was added");
    }

    [TestCase("", "RegistryKit:RetryPeriod is 00:00:00; it must be positive.")]
    [TestCase("edge", "RegistryKit:Registries:edge:RetryPeriod is 00:00:00; it must be positive.")]
    public void InvalidOptions_FailNamingTheConfigurationKeyAndTheRule(string name, string message)
    {
        _services.AddRegistry(name, o =>
        {
            o.RetryPeriod = TimeSpan.Zero;
            o.RetryJitter = 2;
        }).UseInMemory();
        using ServiceProvider provider = _services.BuildServiceProvider();

        var exception = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredKeyedService<RegistryFactory>(name));

        Assert.That(exception!.Failures, Has.Member(message));
        Assert.That(exception.Failures, Has.Some.Contains(":RetryJitter is 2; it must be from 0 to 1."), "every bad setting is named, not only the first");
    }

    [Test]
    public void Configuration_BindsTheSectionOfEachRegistry()
    {
        AddConfiguration(new()
        {
            ["RegistryKit:RetryPeriod"] = "00:00:07",
            ["RegistryKit:Check"] = "false",
            ["RegistryKit:Registries:edge:RetryPeriod"] = "00:00:03",
            ["RegistryKit:Registries:edge:EmptyProtection"] = "true",
        });
        _services.AddRegistry().UseInMemory();
        _services.AddRegistry("edge").UseInMemory();
        using ServiceProvider provider = _services.BuildServiceProvider();
        IOptionsMonitor<RegistryOptions> options = provider.GetRequiredService<IOptionsMonitor<RegistryOptions>>();

        Assert.Multiple(() =>
        {
            Assert.That(options.Get(Options.DefaultName).RetryPeriod, Is.EqualTo(TimeSpan.FromSeconds(7)));
            Assert.That(options.Get(Options.DefaultName).Check, Is.False);
            Assert.That(options.Get("edge").RetryPeriod, Is.EqualTo(TimeSpan.FromSeconds(3)));
            Assert.That(options.Get("edge").EmptyProtection, Is.True);
            Assert.That(options.Get("edge").Check, Is.EqualTo(new RegistryOptions().Check), "a named registry does not inherit the default's section");
        });
    }

    [Test]
    public void Configuration_CodeGivenToAddRegistryWins()
    {
        AddConfiguration(new() { ["RegistryKit:RetryPeriod"] = "00:00:07" });
        _services.AddRegistry(o => o.RetryPeriod = TimeSpan.FromSeconds(9)).UseInMemory();
        using ServiceProvider provider = _services.BuildServiceProvider();

        Assert.That(provider.GetRequiredService<IOptions<RegistryOptions>>().Value.RetryPeriod, Is.EqualTo(TimeSpan.FromSeconds(9)));
    }

    [Test]
    public void Configuration_OutOfRange_FailsNamingTheKey()
    {
        AddConfiguration(new() { ["RegistryKit:Registries:edge:MaxConcurrentRetries"] = "0" });
        _services.AddRegistry("edge").UseInMemory();
        using ServiceProvider provider = _services.BuildServiceProvider();

        var exception = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredKeyedService<RegistryFactory>("edge"));

        Assert.That(exception!.Failures, Is.EqualTo(new[] { "RegistryKit:Registries:edge:MaxConcurrentRetries is 0; it must be positive." }));
    }

    [Test]
    public void AddTransport_AnotherFactoryForTheSameScheme_ThrowsWithTheFix()
    {
        IRegistryBuilder builder = _services.AddRegistry().UseInMemory();

        var exception = Assert.Throws<InvalidOperationException>(() => builder.AddTransport<OtherMemoryTransportFactory>("memory"));

        Assert.That(exception!.Message, Does.Contain("already has a transport for 'memory'").And.Contain("one transport per scheme"));
    }

    [TestCase("memory://")]
    [TestCase("9etcd")]
    [TestCase("my scheme")]
    public void AddTransport_NotAScheme_ThrowsNamingTheParameter(string scheme)
    {
        IRegistryBuilder builder = _services.AddRegistry();

        var exception = Assert.Throws<ArgumentException>(() => builder.AddTransport(scheme, new OtherMemoryTransportFactory()));

        Assert.That(exception!.ParamName, Is.EqualTo("scheme"));
        Assert.That(exception.Message, Does.Contain("such as 'memory' or 'etcd'"));
    }

    [Test]
    public void Registry_WithoutATransport_FailsAtStartUpWithTheFix()
    {
        _services.AddRegistry("edge");
        using ServiceProvider provider = _services.BuildServiceProvider();

        var exception = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.That(exception!.Message, Does.Contain("The registry 'edge' has no transport").And.Contain("UseInMemory()"));
    }

    [Test]
    public void InvalidOptions_FailAtStartUp_ValidateOnStart()
    {
        _services.AddRegistry("edge", o => o.RetryPeriod = TimeSpan.Zero).UseInMemory();
        using ServiceProvider provider = _services.BuildServiceProvider();

        var exception = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.That(exception!.Failures, Has.Member("RegistryKit:Registries:edge:RetryPeriod is 00:00:00; it must be positive."));
    }

    [Test]
    public void AddTransport_TwoInstancesOfOneTypeForOneScheme_Throws_TheSameInstanceTwiceDoesNot()
    {
        var first = new OtherMemoryTransportFactory();
        IRegistryBuilder builder = _services.AddRegistry().AddTransport("memory", first).AddTransport("memory", first);

        var exception = Assert.Throws<InvalidOperationException>(() => builder.AddTransport("memory", new OtherMemoryTransportFactory()));

        Assert.That(exception!.Message, Does.Contain("already has a transport for 'memory'"));
    }

    [Test]
    public void AddTransport_WithAFactoryDelegate_MakesOnePerRegistry_AddedTwiceIsHarmless()
    {
        var made = new List<OtherMemoryTransportFactory>();
        OtherMemoryTransportFactory Make(IServiceProvider services)
        {
            var factory = new OtherMemoryTransportFactory();
            made.Add(factory);
            return factory;
        }

        _services.AddRegistry().AddTransport("other", Make).AddTransport("other", Make);
        _services.AddRegistry("edge").AddTransport("other", Make);
        using ServiceProvider provider = _services.BuildServiceProvider();

        Assert.That(provider.GetRequiredService<RegistryFactory>().Schemes, Is.EqualTo(new[] { "other" }));
        Assert.That(provider.GetRequiredKeyedService<RegistryFactory>("edge").Schemes, Is.EqualTo(new[] { "other" }));
        Assert.That(made, Has.Count.EqualTo(2), "one per registry, however often it was added");
        Assert.That(
            () => _services.AddRegistry().AddTransport<IRegistryTransportFactory>("other", _ => new OtherMemoryTransportFactory()),
            Throws.InvalidOperationException.With.Message.Contain("already has a transport for 'other'"));
    }

    [TestCase(" ")]
    [TestCase("a:b")]
    public void AddRegistry_NameThatCannotBeASection_ThrowsNamingIt(string name)
    {
        var exception = Assert.Throws<ArgumentException>(() => _services.AddRegistry(name));

        Assert.That(exception!.ParamName, Is.EqualTo("name"));
        Assert.That(exception.Message, Does.Contain("RegistryKit:Registries:{name}"));
    }

    [Test]
    public void AddRegistry_NamesThatDifferOnlyByCase_Throw()
    {
        _services.AddRegistry("edge").UseInMemory();

        var exception = Assert.Throws<ArgumentException>(() => _services.AddRegistry("Edge"));

        Assert.That(exception!.Message, Does.Contain("only by case"));
    }

    [Test]
    public async Task DisposingTheContainerSynchronously_AlsoDeregisters()
    {
        var server = new InMemoryRegistryServer(_time);
        _services.AddSingleton(server);
        _services.AddRegistry(NoCache).UseInMemory();
        using (ServiceProvider provider = _services.BuildServiceProvider())
        {
            IRegistry registry = await provider.GetRequiredService<RegistryFactory>().GetRegistryAsync(s_registry);
            await registry.RegisterAsync(s_provider);
        }

        Assert.That(server.SessionCount, Is.Zero);
        server.Dispose();
    }

    [Test]
    public async Task DisposingTheContainer_DeregistersWhatItsRegistriesRegistered()
    {
        var server = new InMemoryRegistryServer(_time);
        _services.AddSingleton(server);
        _services.AddRegistry(NoCache).UseInMemory();
        await using (ServiceProvider provider = _services.BuildServiceProvider())
        {
            IRegistry registry = await provider.GetRequiredService<RegistryFactory>().GetRegistryAsync(s_registry);
            await registry.RegisterAsync(s_provider);
        }

        await using var observer = new RegistryFactory([new("memory", new InMemoryRegistryTransportFactory(server))], new RegistryOptions { CacheEnabled = false }, _time);
        IRegistry other = await observer.GetRegistryAsync(s_registry);
        Assert.That(await other.LookupAsync(s_consumer), Is.Empty, "the app's registration went with the container");
        server.Dispose();
    }

    [Test]
    public async Task Address_DefaultsToMemoryWithUseInMemory_AndConfigurationOverridesIt()
    {
        _services.AddRegistry(NoCache).UseInMemory();
        _services.AddRegistry("edge", NoCache).UseInMemory();
        AddConfiguration(new() { ["RegistryKit:Registries:edge:Address"] = "memory:///edge?application=billing" });
        await using ServiceProvider provider = _services.BuildServiceProvider();

        RegistryFactory factory = provider.GetRequiredService<RegistryFactory>();
        RegistryFactory edge = provider.GetRequiredKeyedService<RegistryFactory>("edge");

        Assert.That(factory.DefaultAddress, Is.EqualTo(ServiceUrl.Parse("memory://")));
        Assert.That(edge.DefaultAddress, Is.EqualTo(ServiceUrl.Parse("memory:///edge?application=billing")));
        IRegistry registry = await factory.GetRegistryAsync();
        Assert.That(registry.Url, Is.EqualTo(ServiceUrl.Parse("memory://")));
    }

    [Test]
    public async Task GetRegistryAsync_WithoutAnAddress_SaysWhichSettingToSet()
    {
        await using var factory = new RegistryFactory([new("memory", new InMemoryRegistryTransportFactory(new InMemoryRegistryServer(_time)))], new RegistryOptions { CacheEnabled = false }, _time);

        var error = Assert.ThrowsAsync<InvalidOperationException>(async () => await factory.GetRegistryAsync());

        Assert.That(error!.Message, Does.Contain("Set RegistryOptions.Address (configuration key RegistryKit:Address)"));
    }

    [Test]
    public async Task Metrics_FactoriesSharingAMeterFactory_ShareEachInstrument_AndCountAllTheirRegistries()
    {
        await using ServiceProvider metrics = new ServiceCollection().AddMetrics().BuildServiceProvider();
        IMeterFactory meterFactory = metrics.GetRequiredService<IMeterFactory>();
        var pending = new List<Instrument>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Scope == meterFactory && instrument.Name == "registrykit.retries.pending")
                {
                    pending.Add(instrument);
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        long observed = 0;
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            if (tags.ToArray().Any(t => t.Key == "registrykit.retry.kind" && (string?)t.Value == "register"))
            {
                Interlocked.Exchange(ref observed, value);
            }
        });
        listener.Start();
        var server = new InMemoryRegistryServer(_time);
        var transports = new Dictionary<string, IRegistryTransportFactory> { ["memory"] = new InMemoryRegistryTransportFactory(server) };
        await using var first = new RegistryFactory(transports, new RegistryOptions { CacheEnabled = false, Check = false }, _time, meterFactory: meterFactory);
        await using var second = new RegistryFactory(transports, new RegistryOptions { CacheEnabled = false, Check = false }, _time, meterFactory: meterFactory);
        server.Faults.MakeUnreachable(TimeSpan.FromMinutes(1));
        await (await first.GetRegistryAsync(s_registry)).RegisterAsync(s_provider);
        await (await second.GetRegistryAsync(s_registry)).RegisterAsync(s_provider);

        listener.RecordObservableInstruments();

        Assert.That(pending, Has.Count.EqualTo(1), "one instrument per meter, however many factories");
        Assert.That(Interlocked.Read(ref observed), Is.EqualTo(2), "it counts the retries of both factories' registries");
        server.Faults.Clear();
    }

    private static void NoCache(RegistryOptions options) => options.CacheEnabled = false;

    private void AddConfiguration(Dictionary<string, string?> values) =>
        _services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(values).Build());

    private sealed class OtherMemoryTransportFactory : IRegistryTransportFactory
    {
        public IRegistryTransport CreateTransport(ServiceUrl registryUrl) => throw new NotSupportedException();
    }
}
