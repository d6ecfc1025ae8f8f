namespace RegistryKit.Registry;

/// <summary>Receives what a subscription sees.</summary>
/// <remarks>
/// Each call carries the full current list of one category (providers, routers, configurators, ...), never a partial
/// one. A category that became empty arrives as a single <c>empty://</c> URL whose <c>category</c> parameter names it
/// (<see cref="ServiceUrl.IsEmptyMarker"/>). Calls to one listener come one at a time, in order; a slow listener delays
/// only itself. An exception it throws is logged and delivery goes on.
/// </remarks>
public interface INotifyListener
{
    /// <summary>The list of one category changed.</summary>
    /// <param name="urls">The full list of the category, or its single <c>empty://</c> marker.</param>
    /// <param name="cancellationToken">Signalled when the subscription or the registry is being shut down.</param>
    /// <returns>A task that completes when the listener has taken the list in.</returns>
    ValueTask NotifyAsync(IReadOnlyList<ServiceUrl> urls, CancellationToken cancellationToken);
}
