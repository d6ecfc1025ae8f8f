using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RegistryKit.Etcd;
using RegistryKit.Hosting;
using RegistryKit.InMemory;

namespace RegistryKit.Samples.WorkerService;

/// <summary>Builds the worker's host: the registry, the hosted registration, the health check and the status log.</summary>
internal static class WorkerServiceHost
{
    /// <summary>The configuration section of the status log.</summary>
    public const string StatusLogSection = "StatusLog";

    /// <summary>
    /// Creates the host builder. Settings come from <c>appsettings.json</c> beside the program (then
    /// <c>appsettings.{environment}.json</c>, environment variables and the command line, as for any Generic Host).
    /// </summary>
    /// <param name="args">The command line, such as <c>--environment Etcd</c> or <c>--RegistryKit:Address=etcd://10.0.0.5:2379</c>.</param>
    /// <param name="timeProvider">The clock for the registry and the status log; <see langword="null"/> for the system clock.</param>
    /// <returns>The builder, ready to build; a test may add to it first.</returns>
    public static HostApplicationBuilder CreateBuilder(string[] args, TimeProvider? timeProvider = null)
    {
        // The content root is the program's folder rather than the working directory, so that
        // `dotnet run --project samples/WorkerService` finds appsettings.json from anywhere.
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = args,
            ApplicationName = "worker-service",
            ContentRootPath = AppContext.BaseDirectory,
        });

        if (timeProvider is not null)
        {
            builder.Services.AddSingleton(timeProvider);
        }

        // Both transports are added; RegistryKit:Address picks one. When configuration names none, UseInMemory()
        // (the first to set a default) makes it memory://. UseEtcd() binds its options from RegistryKit:Etcd.
        builder.Services.AddRegistry()
            .UseInMemory()
            .UseEtcd()
            .AddRegistration("greeter");

        builder.Services.AddHealthChecks().AddRegistryKit();

        builder.Services.AddOptions<StatusLogOptions>()
            .Bind(builder.Configuration.GetSection(StatusLogSection))
            .Validate(o => o.Interval > TimeSpan.Zero, $"{StatusLogSection}:Interval must be positive, such as \"00:00:10\".")
            .ValidateOnStart();
        builder.Services.AddHostedService<RegistryStatusLogger>();
        return builder;
    }
}
