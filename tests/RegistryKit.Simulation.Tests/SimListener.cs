using System.Collections.Concurrent;
using RegistryKit.Registry;

namespace RegistryKit.Simulation.Tests;

/// <summary>A subscriber: keeps every notification it got, as sorted sets of full URLs.</summary>
/// <remarks>The listener's pump writes and the driver reads from another thread: a queue and a volatile view.</remarks>
internal sealed class SimListener(int client, int service) : INotifyListener
{
    private readonly ConcurrentQueue<string[]> _notifications = new();
    private volatile string[]? _view;

    public int Client { get; } = client;

    public int Service { get; } = service;

    public IReadOnlyList<string[]> Notifications => [.. _notifications];

    /// <summary>Gets what the listener believes now: its last notification, or nothing yet.</summary>
    public string[]? View => _view;

    public ValueTask NotifyAsync(IReadOnlyList<ServiceUrl> urls, CancellationToken cancellationToken)
    {
        string[] set = [.. urls.Where(u => !u.IsEmptyMarker).Select(u => u.ToFullString()).Order(StringComparer.Ordinal)];
        _notifications.Enqueue(set);
        _view = set;
        return ValueTask.CompletedTask;
    }
}
