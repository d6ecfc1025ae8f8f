using RegistryKit.Registry;

namespace RegistryKit.Simulation.Tests;

/// <summary>A subscriber: keeps every notification it got, as sorted sets of full URLs.</summary>
internal sealed class SimListener(int client, int service) : INotifyListener
{
    private readonly Lock _lock = new();
    private readonly List<string[]> _notifications = [];

    public int Client { get; } = client;

    public int Service { get; } = service;

    public IReadOnlyList<string[]> Notifications
    {
        get
        {
            lock (_lock)
            {
                return [.. _notifications];
            }
        }
    }

    /// <summary>Gets what the listener believes now: its last notification, or nothing yet.</summary>
    public string[]? View
    {
        get
        {
            lock (_lock)
            {
                return _notifications.Count == 0 ? null : _notifications[^1];
            }
        }
    }

    public ValueTask NotifyAsync(IReadOnlyList<ServiceUrl> urls, CancellationToken cancellationToken)
    {
        string[] set = [.. urls.Where(u => !u.IsEmptyMarker).Select(u => u.ToFullString()).Order(StringComparer.Ordinal)];
        lock (_lock)
        {
            _notifications.Add(set);
        }

        return ValueTask.CompletedTask;
    }
}
