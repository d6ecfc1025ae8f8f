namespace RegistryKit.Registry;

/// <summary>
/// A registry client: records what this process wants to be true in a registry and keeps it true (Dubbo's
/// RegistryService and Registry).
/// </summary>
/// <remarks>
/// Calls return once the intent is recorded and the first attempt was made. When that attempt fails the registry
/// keeps retrying in the background, unless <c>check</c> is on (the registry's option and the URL's <c>check</c>
/// parameter), in which case the call throws a <see cref="RegistryException"/>. A failure no retry can fix throws
/// either way. Invalid arguments throw before anything changes.
/// </remarks>
public interface IRegistry : INode
{
    /// <summary>Registers <paramref name="url"/> and keeps it registered.</summary>
    /// <param name="url">What to register, such as a provider's URL.</param>
    /// <param name="cancellationToken">
    /// Cancels waiting for the first attempt: the intent stays recorded and is made true in the background.
    /// </param>
    /// <returns>A task that completes after the first attempt.</returns>
    ValueTask RegisterAsync(ServiceUrl url, CancellationToken cancellationToken = default);

    /// <summary>Removes the registration of <paramref name="url"/>.</summary>
    /// <param name="url">What to unregister.</param>
    /// <param name="cancellationToken">
    /// Cancels waiting for the first attempt: the URL is still removed, in the background.
    /// </param>
    /// <returns>A task that completes after the first attempt.</returns>
    ValueTask UnregisterAsync(ServiceUrl url, CancellationToken cancellationToken = default);

    /// <summary>
    /// Subscribes <paramref name="listener"/> to what is registered for the service of <paramref name="url"/>. A
    /// subscription that cannot be set up at once is served from the disk cache meanwhile and retried; it does not throw.
    /// </summary>
    /// <param name="url">The subscription: the service interface (or <c>*</c>), and the group, version, classifier and categories wanted.</param>
    /// <param name="listener">Where the lists go.</param>
    /// <param name="cancellationToken">Cancels the first attempt.</param>
    /// <returns>A task that completes after the first attempt.</returns>
    ValueTask SubscribeAsync(ServiceUrl url, INotifyListener listener, CancellationToken cancellationToken = default);

    /// <summary>Ends the subscription of <paramref name="listener"/> to <paramref name="url"/>.</summary>
    /// <param name="url">The subscription.</param>
    /// <param name="listener">The listener.</param>
    /// <param name="cancellationToken">Cancels waiting for the listener's delivery to stop.</param>
    /// <returns>A task that completes when the listener receives nothing more.</returns>
    ValueTask UnsubscribeAsync(ServiceUrl url, INotifyListener listener, CancellationToken cancellationToken = default);

    /// <summary>
    /// Returns what the registry holds for <paramref name="url"/> now: the subscription's last notified lists without
    /// <c>empty://</c> markers, else the registry's answer, else the disk cache.
    /// </summary>
    /// <param name="url">The subscription.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The matching URLs.</returns>
    ValueTask<IReadOnlyList<ServiceUrl>> LookupAsync(ServiceUrl url, CancellationToken cancellationToken = default);

    /// <summary>Returns how the client is doing now: availability, pending retries by kind, and counters.</summary>
    /// <returns>The snapshot.</returns>
    RegistryStatus GetStatus();
}
