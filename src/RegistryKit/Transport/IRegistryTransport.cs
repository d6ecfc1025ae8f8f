namespace RegistryKit.Transport;

/// <summary>
/// The link between the registry engine and one registry (the in-memory server, etcd, a host's own master). Implement
/// this, and <see cref="IRegistryTransportFactory"/>, to plug in a registry of your own.
/// </summary>
/// <remarks>
/// <para>
/// The engine does the rest: it records intents, retries failures on the shared wheel, keeps the session alive,
/// recovers after a session is lost, filters and groups notifications and keeps the disk cache. A transport only
/// speaks to its registry, once per call, and classifies what goes wrong:
/// </para>
/// <list type="bullet">
/// <item>a failure worth retrying (timeout, connection refused, 5xx): <see cref="RegistryTransportException"/> with
/// <see cref="RegistryTransportException.IsTransient"/> set;</item>
/// <item>a failure no retry can fix (access denied, a request the registry rejects): the same exception, not transient;
/// the engine fails the call and does not retry;</item>
/// <item>the session is unknown to the registry (expired, the registry restarted): <see cref="RegistrySessionLostException"/>;
/// the engine opens a new session and registers everything again.</item>
/// </list>
/// <para>
/// Every call may be retried after a failure, including one whose effect reached the registry before the reply was
/// lost, so register and unregister must be idempotent. Prove an adapter with the conformance suite in
/// <c>RegistryKit.Testing</c>.
/// </para>
/// </remarks>
public interface IRegistryTransport : IAsyncDisposable
{
    /// <summary>Opens a session that registrations will be attached to.</summary>
    /// <param name="ttl">How long the registry should keep the session without a heartbeat; the registry may round it.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The session, with the TTL the registry granted and the heartbeat interval the transport wants.</returns>
    ValueTask<RegistrySession> OpenSessionAsync(TimeSpan ttl, CancellationToken cancellationToken);

    /// <summary>Sends one heartbeat for the session.</summary>
    /// <param name="session">The session.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the registry has renewed the session.</returns>
    /// <exception cref="RegistrySessionLostException">The registry no longer knows the session.</exception>
    ValueTask KeepAliveAsync(RegistrySession session, CancellationToken cancellationToken);

    /// <summary>Closes the session; the registry drops everything registered under it.</summary>
    /// <param name="session">The session.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the session is gone (also when it was already gone).</returns>
    ValueTask CloseSessionAsync(RegistrySession session, CancellationToken cancellationToken);

    /// <summary>Stores <paramref name="url"/> in the registry under the session. Registering the same URL again changes nothing.</summary>
    /// <param name="session">The session the registration belongs to.</param>
    /// <param name="url">What to register.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the registry holds the URL.</returns>
    /// <exception cref="RegistrySessionLostException">The registry no longer knows the session.</exception>
    ValueTask RegisterAsync(RegistrySession session, ServiceUrl url, CancellationToken cancellationToken);

    /// <summary>
    /// Removes <paramref name="url"/> from the registry if it is registered under <paramref name="session"/>. Removing
    /// a URL that is not there, or that a newer session has registered since, changes nothing: a late unregister from
    /// an older session (or an older process on the same address) must not remove a newer registration.
    /// </summary>
    /// <param name="session">The session the registration belonged to.</param>
    /// <param name="url">What to remove.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the registry no longer holds the URL.</returns>
    ValueTask UnregisterAsync(RegistrySession session, ServiceUrl url, CancellationToken cancellationToken);

    /// <summary>
    /// Watches everything registered for the service of <paramref name="subscription"/> (every service when its
    /// interface is <c>*</c>): a first snapshot, then a snapshot after every change, in revision order.
    /// </summary>
    /// <param name="subscription">The consumer's subscription URL.</param>
    /// <param name="watcher">Where snapshots go.</param>
    /// <param name="cancellationToken">Cancels setting the watch up.</param>
    /// <returns>The watch; dispose it to stop watching.</returns>
    ValueTask<IAsyncDisposable> WatchAsync(ServiceUrl subscription, ITransportWatcher watcher, CancellationToken cancellationToken);

    /// <summary>Reads everything registered for the service of <paramref name="subscription"/> once.</summary>
    /// <param name="subscription">The consumer's subscription URL.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The current snapshot.</returns>
    ValueTask<TransportSnapshot> LookupAsync(ServiceUrl subscription, CancellationToken cancellationToken);
}
