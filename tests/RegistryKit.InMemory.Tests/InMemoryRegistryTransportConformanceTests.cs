using RegistryKit.Testing;
using RegistryKit.Testing.Conformance;
using RegistryKit.Transport;

namespace RegistryKit.InMemory.Tests;

/// <summary>The in-memory transport against the full conformance suite, on virtual time.</summary>
public class InMemoryRegistryTransportConformanceTests : RegistryTransportConformanceTests
{
    private ManualTimeProvider _time = null!;
    private InMemoryRegistryServer _server = null!;
    private InMemoryRegistryTransportFactory _factory = null!;

    [SetUp]
    public void SetUpServer()
    {
        _time = new ManualTimeProvider();
        _server = new InMemoryRegistryServer(_time);
        _factory = new InMemoryRegistryTransportFactory(_server);
    }

    [TearDown]
    public void TearDownServer() => _server.Dispose();

    protected override ValueTask<IRegistryTransport> CreateTransportAsync() =>
        ValueTask.FromResult(_factory.CreateTransport(ServiceUrl.Parse("memory://")));

    protected override ValueTask AdvanceAsync(TimeSpan duration)
    {
        _time.Advance(duration);
        return ValueTask.CompletedTask;
    }
}
