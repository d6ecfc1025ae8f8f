using System.Globalization;
using RegistryKit.Transport;

namespace RegistryKit.InMemory;

/// <summary>A client of an <see cref="InMemoryRegistryServer"/>: the <c>memory://</c> transport.</summary>
/// <remarks>
/// Key layout: <c>/{root}/{service interface}/{category}/{full URL}</c>, each part percent-encoded so any service
/// name is safe; a subscription watches <c>/{root}/{service interface}/</c>, or <c>/{root}/</c> for <c>*</c>. The root
/// is the registry URL's path, <c>registrykit</c> by default.
/// </remarks>
internal sealed class InMemoryRegistryTransport : IRegistryTransport
{
    private readonly InMemoryRegistryServer _server;
    private readonly string _root;

    public InMemoryRegistryTransport(InMemoryRegistryServer server, ServiceUrl registryUrl)
    {
        _server = server;
        string root = registryUrl.Path.Trim('/');
        _root = "/" + Uri.EscapeDataString(root.Length == 0 ? "registrykit" : root) + "/";
    }

    public async ValueTask<RegistrySession> OpenSessionAsync(TimeSpan ttl, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero);
        (long id, TimeSpan granted) = await _server.GrantAsync(ttl, cancellationToken).ConfigureAwait(false);

        // etcd's clients renew at a third of the TTL, so two heartbeats may be lost before the lease expires.
        return new RegistrySession(id.ToString(CultureInfo.InvariantCulture), granted, granted / 3);
    }

    public ValueTask KeepAliveAsync(RegistrySession session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        return _server.KeepAliveAsync(ParseId(session), cancellationToken);
    }

    public ValueTask CloseSessionAsync(RegistrySession session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        return _server.RevokeAsync(ParseId(session), cancellationToken);
    }

    public ValueTask RegisterAsync(RegistrySession session, ServiceUrl url, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(url);
        return _server.PutAsync(KeyOf(url), url.ToFullString(), ParseId(session), cancellationToken);
    }

    public ValueTask UnregisterAsync(RegistrySession session, ServiceUrl url, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(url);
        return _server.DeleteAsync(KeyOf(url), ParseId(session), cancellationToken);
    }

    public ValueTask<IAsyncDisposable> WatchAsync(ServiceUrl subscription, ITransportWatcher watcher, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        ArgumentNullException.ThrowIfNull(watcher);
        return _server.WatchAsync(PrefixOf(subscription), watcher, cancellationToken);
    }

    public ValueTask<TransportSnapshot> LookupAsync(ServiceUrl subscription, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        return _server.RangeAsync(PrefixOf(subscription), cancellationToken);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    internal string KeyOf(ServiceUrl url) =>
        string.Concat(_root, Uri.EscapeDataString(url.ServiceInterface), "/", Uri.EscapeDataString(url.Category), "/", Uri.EscapeDataString(url.ToFullString()));

    private string PrefixOf(ServiceUrl subscription) =>
        subscription.ServiceInterface == ServiceUrlKeys.AnyValue
            ? _root
            : string.Concat(_root, Uri.EscapeDataString(subscription.ServiceInterface), "/");

    private static long ParseId(RegistrySession session) =>
        long.TryParse(session.Id, NumberStyles.None, CultureInfo.InvariantCulture, out long id)
            ? id
            : throw new RegistrySessionLostException($"'{session.Id}' is not a session of the in-memory registry.");
}
