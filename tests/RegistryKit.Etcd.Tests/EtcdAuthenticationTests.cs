using RegistryKit.Transport;

namespace RegistryKit.Etcd.Tests;

/// <summary>User and password from the address, on an etcd with authentication on and tokens that expire in 1 s.</summary>
[CancelAfter(60_000)]
public class EtcdAuthenticationTests
{
    private const string Password = "s3cr3t-root-pw";
    private EtcdServer _etcd = null!;

    private static CancellationToken TestToken => TestContext.CurrentContext.CancellationToken;

    [OneTimeSetUp]
    public async Task StartEtcdWithAuthAsync()
    {
        _etcd = await EtcdServer.StartOwnAsync("--auth-token=simple", "--auth-token-ttl=1");
        await _etcd.PostAsync("auth/role/add", """{"name":"root"}""");
        await _etcd.PostAsync("auth/user/add", $$"""{"name":"root","password":"{{Password}}"}""");
        await _etcd.PostAsync("auth/user/grant", """{"user":"root","role":"root"}""");
        await _etcd.PostAsync("auth/enable", "{}");
    }

    [OneTimeTearDown]
    public async Task StopEtcdAsync() => await _etcd.DisposeAsync();

    [Test]
    public async Task Call_TokenExpired_AuthenticatesAgainOnceAndSucceeds()
    {
        var logs = new ProgressLoggerFactory();
        await using IRegistryTransport transport = Create($"root:{Password}", logs);
        RegistrySession session = await transport.OpenSessionAsync(TimeSpan.FromSeconds(10), TestToken);

        // Idle past the token's TTL, so that the next call is answered 401 code 16.
        await Task.Delay(TimeSpan.FromSeconds(3), TestToken);
        await transport.RegisterAsync(session, EtcdRegistryTransportTests.Provider("com.example.Greeter", 1), TestToken);

        Assert.That(logs.Lines.Count(l => l.Contains(" 7001 ", StringComparison.Ordinal)), Is.EqualTo(2), "authenticated, then once more after the token expired");
        Assert.That(logs.Lines, Has.None.Contains(Password));
    }

    [Test]
    public async Task Call_WrongPassword_FailsPermanentlyWithoutShowingThePassword()
    {
        var logs = new ProgressLoggerFactory();
        await using IRegistryTransport transport = Create("root:wrong-pw-123", logs);

        RegistryTransportException? failure = Assert.ThrowsAsync<RegistryTransportException>(async () => await transport.OpenSessionAsync(TimeSpan.FromSeconds(2), TestToken));

        Assert.That(failure!.IsTransient, Is.False);
        Assert.That(failure.Message, Does.Contain("Authenticating with etcd as 'root' failed"));
        Assert.That(failure.ToString(), Does.Not.Contain("wrong-pw-123"));
        Assert.That(logs.Lines, Has.None.Contains("wrong-pw-123"));
    }

    [Test]
    public async Task Lookup_NoCredentials_IsRefusedAsNotTransient()
    {
        await using IRegistryTransport transport = Create(null, new ProgressLoggerFactory());

        // etcd 3.4 grants leases to anyone; reading keys needs a user.
        RegistryTransportException? failure = Assert.ThrowsAsync<RegistryTransportException>(
            async () => await transport.LookupAsync(EtcdRegistryTransportTests.Subscription("com.example.Greeter"), TestToken));

        Assert.That(failure!.IsTransient, Is.False);
        TestContext.Out.WriteLine(failure.Message);
    }

    private IRegistryTransport Create(string? userInfo, ProgressLoggerFactory logs)
    {
        var factory = new EtcdRegistryTransportFactory(new EtcdOptions { AllowPasswordOverHttp = true, Root = "/auth/" + Guid.NewGuid().ToString("N") }, loggerFactory: logs);
        string at = userInfo is null ? string.Empty : userInfo + "@";
        return factory.CreateTransport(ServiceUrl.Parse($"etcd://{at}127.0.0.1:{_etcd.ClientPort}"));
    }
}
