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
    public void UseEtcd_InvalidOptions_FailWithTheSettingsName()
    {
        var services = new ServiceCollection();
        services.AddRegistry().UseEtcd(options => options.CallTimeout = TimeSpan.FromSeconds(-1));
        using ServiceProvider provider = services.BuildServiceProvider();

        OptionsValidationException? failure = Assert.Throws<OptionsValidationException>(() => _ = provider.GetRequiredService<IOptions<EtcdOptions>>().Value);

        Assert.That(failure!.Message, Does.Contain("EtcdOptions.CallTimeout"));
    }
}
