namespace RegistryKit.Etcd.Tests;

/// <summary>Stops the shared etcd after the last test of the assembly.</summary>
[SetUpFixture]
public class EtcdSetUp
{
    [OneTimeTearDown]
    public Task StopSharedEtcdAsync() => EtcdServer.StopSharedAsync();
}
