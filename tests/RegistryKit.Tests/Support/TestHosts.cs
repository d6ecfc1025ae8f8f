using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace RegistryKit.Tests.Support;

/// <summary>Real Generic Hosts for tests: no configuration files or environment, the test's clock, every log kept.</summary>
internal static class TestHosts
{
    /// <summary>An empty host builder for the application <c>orders</c> on <paramref name="time"/>, logging everything into <paramref name="logs"/>.</summary>
    public static HostApplicationBuilder CreateBuilder(TimeProvider time, ILoggerProvider logs, Dictionary<string, string?>? configuration = null)
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ApplicationName = "orders" });
        builder.Configuration.AddInMemoryCollection(configuration ?? []);
        builder.Services.AddSingleton(time);
        builder.Logging.AddProvider(logs).SetMinimumLevel(LogLevel.Trace);
        return builder;
    }
}
