using RegistryKit.Samples.CustomTransport.Master;
using RegistryKit.Samples.CustomTransport.Transport;
using RegistryKit.Testing;
using RegistryKit.Testing.Conformance;
using RegistryKit.Transport;

namespace RegistryKit.Samples.CustomTransport.Tests;

/// <summary>The <c>mymaster://</c> adapter against the full conformance suite: a real master on loopback (Kestrel, a free port), on virtual time.</summary>
public class MasterRegistryTransportConformanceTests : RegistryTransportConformanceTests
{
    private ManualTimeProvider _time = null!;
    private MasterServer _master = null!;
    private MasterRegistryTransportFactory _factory = null!;

    [SetUp]
    public async Task StartMasterAsync()
    {
        _time = new ManualTimeProvider();
        _master = await MasterServer.StartAsync(timeProvider: _time);
        _factory = new MasterRegistryTransportFactory(_time);
    }

    [TearDown]
    public async Task StopMasterAsync() => await _master.DisposeAsync();

    protected override ValueTask<IRegistryTransport> CreateTransportAsync() =>
        ValueTask.FromResult(_factory.CreateTransport(ServiceUrl.Parse($"mymaster://127.0.0.1:{_master.Port}/conformance")));

    protected override ValueTask AdvanceAsync(TimeSpan duration)
    {
        _time.Advance(duration);
        return ValueTask.CompletedTask;
    }
}
