using RegistryKit.Testing.Conformance;
using RegistryKit.Transport;

namespace RegistryKit.Etcd.Tests;

/// <summary>
/// The etcd transport against the full conformance suite on a real etcd. Time passes for real here: etcd expires
/// leases on its own clock, which a test cannot move. The TTL is etcd's minimum, 2 s, to keep the waits short.
/// </summary>
public class EtcdRegistryTransportConformanceTests : RegistryTransportConformanceTests
{
    private EtcdServer _etcd = null!;
    private EtcdRegistryTransportFactory _factory = null!;

    protected override TimeSpan SessionTtl => TimeSpan.FromSeconds(2);

    [OneTimeSetUp]
    public async Task StartEtcdAsync() => _etcd = await EtcdServer.RequireSharedAsync();

    // Each test has its own key root, so that leftovers of another test (keys whose lease has not expired) are not seen.
    [SetUp]
    public void SetUpFactory() =>
        _factory = new EtcdRegistryTransportFactory(new EtcdOptions { Root = "/conformance/" + Guid.NewGuid().ToString("N") });

    protected override ValueTask<IRegistryTransport> CreateTransportAsync() =>
        ValueTask.FromResult(_factory.CreateTransport(ServiceUrl.Parse(_etcd.Address)));

    protected override async ValueTask AdvanceAsync(TimeSpan duration) => await Task.Delay(duration, TestToken);
}
