namespace RegistryKit.Transport;

/// <summary>
/// A session (a lease) a transport opened in its registry. Registrations made under it vanish when it expires or
/// is closed; heartbeats keep it alive.
/// </summary>
public sealed class RegistrySession
{
    /// <summary>Creates a session description.</summary>
    /// <param name="id">The registry's identifier of the session (an etcd lease id, for example).</param>
    /// <param name="ttl">How long the registry keeps the session without a heartbeat.</param>
    /// <param name="heartbeatInterval">How often the transport asks to be sent a heartbeat (etcd: a third of the TTL).</param>
    /// <exception cref="ArgumentException"><paramref name="id"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A duration is not positive, or the interval is not below the TTL.</exception>
    public RegistrySession(string id, TimeSpan ttl, TimeSpan heartbeatInterval)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(heartbeatInterval, TimeSpan.Zero);
        if (heartbeatInterval >= ttl)
        {
            throw new ArgumentOutOfRangeException(
                nameof(heartbeatInterval),
                heartbeatInterval,
                $"The heartbeat interval ({heartbeatInterval}) must be shorter than the session TTL ({ttl}), or the session expires between heartbeats.");
        }

        Id = id;
        Ttl = ttl;
        HeartbeatInterval = heartbeatInterval;
    }

    /// <summary>Gets the registry's identifier of the session.</summary>
    public string Id { get; }

    /// <summary>Gets how long the registry keeps the session without a heartbeat.</summary>
    public TimeSpan Ttl { get; }

    /// <summary>Gets how often the session wants a heartbeat.</summary>
    public TimeSpan HeartbeatInterval { get; }

    /// <inheritdoc/>
    public override string ToString() => $"session {Id} (TTL {Ttl.TotalSeconds:0.###} s)";
}
