using RegistryKit.Transport;

namespace RegistryKit.Etcd.Tests;

/// <summary>HTTPS to an etcd that checks client certificates, with a CA of the test's own.</summary>
[CancelAfter(60_000)]
public class EtcdTlsTests
{
    private TestCertificates _certificates = null!;
    private EtcdServer _etcd = null!;

    private static CancellationToken TestToken => TestContext.CurrentContext.CancellationToken;

    [OneTimeSetUp]
    public async Task StartEtcdWithTlsAsync()
    {
        _certificates = new TestCertificates();
        _etcd = await EtcdServer.StartOwnWithTlsAsync(_certificates);
    }

    [OneTimeTearDown]
    public async Task StopEtcdAsync()
    {
        if (_etcd is not null)
        {
            await _etcd.DisposeAsync();
        }

        _certificates?.Dispose();
    }

    [Test]
    public async Task Register_OverTlsWithCustomCaAndClientCertificate_Works()
    {
        await using IRegistryTransport transport = Create(new EtcdOptions
        {
            UseTls = true,
            CaCertificatePath = _certificates.CaCertificatePath,
            ClientCertificatePath = _certificates.ClientCertificatePath,
            ClientKeyPath = _certificates.ClientKeyPath,
        });
        ServiceUrl url = EtcdRegistryTransportTests.Provider("com.example.Greeter", 1);

        RegistrySession session = await transport.OpenSessionAsync(TimeSpan.FromSeconds(2), TestToken);
        await transport.RegisterAsync(session, url, TestToken);

        TransportSnapshot looked = await transport.LookupAsync(EtcdRegistryTransportTests.Subscription("com.example.Greeter"), TestToken);
        Assert.That(looked.Entries, Is.EqualTo(new[] { url.ToFullString() }));
    }

    [Test]
    public async Task Call_ServerCertificateFromAnUntrustedCa_FailsPermanently()
    {
        await using IRegistryTransport transport = Create(new EtcdOptions
        {
            UseTls = true,
            ClientCertificatePath = _certificates.ClientCertificatePath,
            ClientKeyPath = _certificates.ClientKeyPath,
        });

        RegistryTransportException? failure = Assert.ThrowsAsync<RegistryTransportException>(async () => await transport.OpenSessionAsync(TimeSpan.FromSeconds(2), TestToken));

        Assert.That(failure!.IsTransient, Is.False, "no retry fixes an untrusted certificate");
        Assert.That(failure.Message, Does.Contain("CaCertificatePath"));
    }

    [Test]
    public async Task Call_WithoutTheClientCertificate_Fails()
    {
        await using IRegistryTransport transport = Create(new EtcdOptions { UseTls = true, CaCertificatePath = _certificates.CaCertificatePath });

        Assert.That(async () => await transport.OpenSessionAsync(TimeSpan.FromSeconds(2), TestToken), Throws.InstanceOf<RegistryTransportException>());
    }

    private IRegistryTransport Create(EtcdOptions options)
    {
        options.Root = "/tls/" + Guid.NewGuid().ToString("N");
        options.CallTimeout = TimeSpan.FromSeconds(3);
        return new EtcdRegistryTransportFactory(options).CreateTransport(ServiceUrl.Parse($"etcd://127.0.0.1:{_etcd.ClientPort}"));
    }
}
