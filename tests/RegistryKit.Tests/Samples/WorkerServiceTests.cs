using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using RegistryKit.Etcd;
using RegistryKit.Hosting;
using RegistryKit.InMemory;
using RegistryKit.Samples.WorkerService;
using RegistryKit.Testing;
using RegistryKit.Tests.Support;

namespace RegistryKit.Tests.Samples;

/// <summary>The WorkerService sample's host, built from its own appsettings.json, on virtual time.</summary>
[CancelAfter(30_000)]
public class WorkerServiceTests
{
    [Test]
    public async Task Host_OnTheDefaultInMemoryRegistry_RegistersIsHealthyAndDeregistersOnStop()
    {
        var time = new ManualTimeProvider();
        HostApplicationBuilder builder = WorkerServiceHost.CreateBuilder([], time);
        builder.Configuration.AddInMemoryCollection([new("RegistryKit:CacheEnabled", "false")]);
        using IHost host = builder.Build();
        InMemoryRegistryServer server = host.Services.GetRequiredService<InMemoryRegistryServer>();
        ServiceRegistrations registrations = host.Services.GetRequiredService<ServiceRegistrations>();

        await host.StartAsync();
        await VirtualTimeDriver.WaitUntilAsync(() => registrations.GetStatus()[0].State == RegistrationState.Registered);

        string registered = server.GetEntries().Values.Single();
        Assert.That(registered, Does.StartWith("http://").And.Contain(":8080/greeter?").And.Contain("version=1.0").And.Contain("weight=50"));
        HealthReport health = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        Assert.That(health.Status, Is.EqualTo(HealthStatus.Healthy), health.Entries["registrykit"].Description);
        RegistryStatusLogger statusLog = host.Services.GetServices<IHostedService>().OfType<RegistryStatusLogger>().Single();
        Assert.That(statusLog.ReadTotals()["registrykit.registration.attempts.success"], Is.EqualTo(1), "the status log reads the RegistryKit meter");

        await host.StopAsync();

        Assert.That(server.GetEntries(), Is.Empty, "deregistered on stop");
        Assert.That(registrations.GetStatus()[0].State, Is.EqualTo(RegistrationState.Deregistered));
    }

    [Test]
    public void Host_InTheEtcdEnvironment_BindsTheEtcdAddressAndValidates()
    {
        using IHost host = WorkerServiceHost.CreateBuilder(["--environment", "Etcd"], new ManualTimeProvider()).Build();

        Assert.That(() => host.Services.GetRequiredService<IStartupValidator>().Validate(), Throws.Nothing);
        ServiceUrl? address = host.Services.GetRequiredService<RegistryFactory>().DefaultAddress;
        Assert.That(address?.Protocol, Is.EqualTo("etcd"));
        Assert.That(address?.Address, Is.EqualTo("127.0.0.1:2379"));
        Assert.That(host.Services.GetRequiredService<IOptions<EtcdOptions>>().Value.CallTimeout, Is.EqualTo(TimeSpan.FromSeconds(4)), "RegistryKit:Etcd:CallTimeout from appsettings.json");
    }

    [Test]
    public void Host_WithAnAddressOfNoTransport_FailsValidationNamingTheKey()
    {
        using IHost host = WorkerServiceHost.CreateBuilder(["--RegistryKit:Address=zookeeper://127.0.0.1:2181"], new ManualTimeProvider()).Build();

        var error = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IStartupValidator>().Validate());
        Assert.That(error!.Message, Does.Contain("RegistryKit:Address").And.Contain("zookeeper"));
    }
}
