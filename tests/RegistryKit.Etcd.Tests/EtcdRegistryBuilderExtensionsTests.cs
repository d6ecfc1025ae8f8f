using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RegistryKit.Registry;

namespace RegistryKit.Etcd.Tests;

public class EtcdRegistryBuilderExtensionsTests
{
    [Test]
    public void UseEtcd_DefaultsTheAddressAndBuildsTheFactoryFromTheOptions()
    {
        var services = new ServiceCollection();
        services.AddRegistry().UseEtcd(options => options.Root = "/custom");
        using ServiceProvider provider = services.BuildServiceProvider();

        Assert.That(provider.GetRequiredService<IOptionsMonitor<RegistryOptions>>().Get(Options.DefaultName).Address, Is.EqualTo("etcd://127.0.0.1:2379"));
        Assert.That(provider.GetRequiredService<EtcdRegistryTransportFactory>(), Is.Not.Null);
    }

    [Test]
    public void UseEtcd_InvalidOptions_FailWithTheConfigurationKey()
    {
        var services = new ServiceCollection();
        services.AddRegistry().UseEtcd(options => options.CallTimeout = TimeSpan.FromSeconds(-1));
        using ServiceProvider provider = services.BuildServiceProvider();

        OptionsValidationException? failure = Assert.Throws<OptionsValidationException>(() => _ = provider.GetRequiredService<IOptions<EtcdOptions>>().Value);

        Assert.That(failure!.Message, Does.Contain("RegistryKit:Etcd:CallTimeout is -00:00:01").And.Contain("positive"));
    }

    [Test]
    public void UseEtcd_DefaultRegistry_BindsTheEtcdSection()
    {
        using ServiceProvider provider = Build(
            new() { ["RegistryKit:Etcd:Root"] = "/from-config", ["RegistryKit:Etcd:CallTimeout"] = "00:00:02", ["RegistryKit:Etcd:AllowPasswordOverHttp"] = "true" },
            services => services.AddRegistry().UseEtcd());

        EtcdOptions options = provider.GetRequiredService<IOptionsMonitor<EtcdOptions>>().Get(Options.DefaultName);

        Assert.That((options.Root, options.CallTimeout, options.AllowPasswordOverHttp), Is.EqualTo(("/from-config", TimeSpan.FromSeconds(2), true)));
    }

    [Test]
    public void UseEtcd_NamedRegistry_BindsItsOwnSectionOnly()
    {
        using ServiceProvider provider = Build(
            new() { ["RegistryKit:Etcd:Root"] = "/default", ["RegistryKit:Registries:edge:Etcd:Root"] = "/edge" },
            services =>
            {
                services.AddRegistry().UseEtcd();
                services.AddRegistry("edge").UseEtcd();
                services.AddRegistry("other").UseEtcd();
            });
        IOptionsMonitor<EtcdOptions> options = provider.GetRequiredService<IOptionsMonitor<EtcdOptions>>();

        Assert.That(options.Get("edge").Root, Is.EqualTo("/edge"));
        Assert.That(options.Get(Options.DefaultName).Root, Is.EqualTo("/default"));
        Assert.That(options.Get("other").Root, Is.EqualTo("/registrykit"), "a named registry does not inherit the default's section");
        Assert.That(
            provider.GetRequiredKeyedService<EtcdRegistryTransportFactory>("edge"),
            Is.Not.SameAs(provider.GetRequiredKeyedService<EtcdRegistryTransportFactory>(Options.DefaultName)),
            "each registry has its own factory, on its own options");
    }

    [Test]
    public void UseEtcd_CodeAndConfiguration_CodeWins()
    {
        using ServiceProvider provider = Build(
            new() { ["RegistryKit:Etcd:Root"] = "/from-config", ["RegistryKit:Etcd:CallTimeout"] = "00:00:02" },
            services => services.AddRegistry().UseEtcd(o => o.Root = "/from-code"));

        EtcdOptions options = provider.GetRequiredService<IOptions<EtcdOptions>>().Value;

        Assert.That((options.Root, options.CallTimeout), Is.EqualTo(("/from-code", TimeSpan.FromSeconds(2))));
    }

    [Test]
    public void UseEtcd_CalledTwice_AddsOneTransportAndBindsOnce()
    {
        using ServiceProvider provider = Build(
            new() { ["RegistryKit:Registries:edge:Etcd:Root"] = "/edge" },
            services =>
            {
                services.AddRegistry("edge").UseEtcd(o => o.UseTls = true);
                services.AddRegistry("edge").UseEtcd();
            });

        EtcdOptions options = provider.GetRequiredService<IOptionsMonitor<EtcdOptions>>().Get("edge");

        Assert.That((options.Root, options.UseTls), Is.EqualTo(("/edge", true)));
        Assert.That(provider.GetRequiredKeyedService<RegistryFactory>("edge").Schemes, Is.EqualTo(new[] { "etcd" }));
    }

    [TestCase("", "RegistryKit:Etcd:CallTimeout")]
    [TestCase("edge", "RegistryKit:Registries:edge:Etcd:CallTimeout")]
    public void UseEtcd_BadValueInConfiguration_FailsNamingTheKey(string registry, string key)
    {
        using ServiceProvider provider = Build(new() { [key] = "00:00:00" }, services => services.AddRegistry(registry).UseEtcd());

        OptionsValidationException? failure = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredKeyedService<RegistryFactory>(registry));

        Assert.That(failure!.Message, Does.Contain($"{key} is 00:00:00; it must be positive"));
    }

    [Test]
    public void UseEtcd_MissingCertificateFile_NamesTheKeyAndPathOnly()
    {
        string missing = Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N"), "ca.pem");
        using ServiceProvider provider = Build(
            new() { ["RegistryKit:Etcd:UseTls"] = "true", ["RegistryKit:Etcd:CaCertificatePath"] = missing, ["RegistryKit:Address"] = "etcd://alice:s3cr3t-pw@127.0.0.1:2379" },
            services => services.AddRegistry().UseEtcd());

        OptionsValidationException? failure = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<RegistryFactory>());

        Assert.That(failure!.Message, Does.Contain($"RegistryKit:Etcd:CaCertificatePath is '{missing}'"));
        Assert.That(failure.ToString(), Does.Not.Contain("s3cr3t-pw"));
    }

    private static ServiceProvider Build(Dictionary<string, string?> settings, Action<IServiceCollection> add)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        add(services);
        return services.BuildServiceProvider();
    }
}
