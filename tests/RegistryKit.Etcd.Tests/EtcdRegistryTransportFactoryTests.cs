namespace RegistryKit.Etcd.Tests;

public class EtcdRegistryTransportFactoryTests
{
    [Test]
    public void CreateTransport_PasswordOverPlainHttp_IsRefusedNamingTheFixWithoutThePassword()
    {
        var factory = new EtcdRegistryTransportFactory();

        ArgumentException? failure = Assert.Throws<ArgumentException>(() => factory.CreateTransport(ServiceUrl.Parse("etcd://alice:s3cr3t-pw@127.0.0.1:2379")));

        Assert.That(failure!.ParamName, Is.EqualTo("registryUrl"));
        Assert.That(failure.Message, Does.Contain("UseTls").And.Contain("AllowPasswordOverHttp"));
        Assert.That(failure.ToString(), Does.Not.Contain("s3cr3t-pw"));
    }

    [Test]
    public async Task CreateTransport_PasswordOverHttpAllowed_IsAccepted()
    {
        var factory = new EtcdRegistryTransportFactory(new EtcdOptions { AllowPasswordOverHttp = true });

        await using Transport.IRegistryTransport transport = factory.CreateTransport(ServiceUrl.Parse("etcd://alice:s3cr3t-pw@127.0.0.1:2379"));

        Assert.That(transport, Is.Not.Null);
    }

    [TestCase("memory://")]
    [TestCase("zookeeper://127.0.0.1:2181")]
    public void CreateTransport_NotAnEtcdAddress_IsRefused(string address)
    {
        var factory = new EtcdRegistryTransportFactory();

        ArgumentException? failure = Assert.Throws<ArgumentException>(() => factory.CreateTransport(ServiceUrl.Parse(address)));

        Assert.That(failure!.ParamName, Is.EqualTo("registryUrl"));
        Assert.That(failure.Message, Does.Contain("etcd://127.0.0.1:2379"));
    }

    [Test]
    public void Constructor_InvalidOptions_NamesTheSetting()
    {
        ArgumentException? failure = Assert.Throws<ArgumentException>(() => new EtcdRegistryTransportFactory(new EtcdOptions { CallTimeout = TimeSpan.Zero }));

        Assert.That(failure!.ParamName, Is.EqualTo("options"));
        Assert.That(failure.Message, Does.Contain("EtcdOptions.CallTimeout"));
    }

    [Test]
    public void Constructor_RootWithoutLeadingSlash_NamesTheSetting()
    {
        ArgumentException? failure = Assert.Throws<ArgumentException>(() => new EtcdRegistryTransportFactory(new EtcdOptions { Root = "registrykit" }));

        Assert.That(failure!.Message, Does.Contain("EtcdOptions.Root"));
    }

    [Test]
    public void Defaults_ArePinned()
    {
        var options = new EtcdOptions();

        Assert.That(options.Root, Is.EqualTo("/registrykit"));
        Assert.That(options.CallTimeout, Is.EqualTo(TimeSpan.FromSeconds(5)));
        Assert.That(options.UseTls, Is.False);
        Assert.That(options.AllowPasswordOverHttp, Is.False);
        Assert.That(EtcdDefaults.MinSessionTtl, Is.EqualTo(TimeSpan.FromSeconds(2)));
    }
}
