namespace RegistryKit.InMemory.Tests;

public class InMemoryRegistryServerOptionsTests
{
    [Test]
    public void Defaults_ArePinned()
    {
        var options = new InMemoryRegistryServerOptions();

        Assert.That(
            (options.MaxEntries, options.MaxSessions, options.MaxWatches, options.MaxKeyLength, options.MaxValueLength, options.MinSessionTtl),
            Is.EqualTo((100_000, 10_000, 10_000, 4_096, 65_536, TimeSpan.FromSeconds(1))));
        Assert.That(
            (options.MaxEntries, options.MaxSessions, options.MaxWatches, options.MaxKeyLength, options.MaxValueLength, options.MinSessionTtl),
            Is.EqualTo((InMemoryRegistryServerDefaults.MaxEntries, InMemoryRegistryServerDefaults.MaxSessions, InMemoryRegistryServerDefaults.MaxWatches,
                InMemoryRegistryServerDefaults.MaxKeyLength, InMemoryRegistryServerDefaults.MaxValueLength, InMemoryRegistryServerDefaults.MinSessionTtl)));
    }
}
