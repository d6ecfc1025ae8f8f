using Microsoft.Extensions.Hosting;

namespace RegistryKit.Hosting;

/// <summary>
/// Ties <see cref="ServiceRegistrations"/> to the host: registration begins once every hosted service has started (a web
/// server's port is bound by then) and deregistration runs first thing when the host stops, before the other services
/// stop taking calls.
/// </summary>
internal sealed class RegistrationHostedService(ServiceRegistrations registrations) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        registrations.Start();
        return Task.CompletedTask;
    }

    public Task StoppingAsync(CancellationToken cancellationToken) => registrations.StopAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
