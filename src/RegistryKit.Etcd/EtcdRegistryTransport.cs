using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using RegistryKit.Etcd.Wire;
using RegistryKit.Transport;

namespace RegistryKit.Etcd;

/// <summary>
/// The <c>etcd://</c> transport: a session is a lease, a registration a key attached to it, a subscription a prefix
/// watch. See <see cref="EtcdKeys"/> for the key layout.
/// </summary>
internal sealed partial class EtcdRegistryTransport : IRegistryTransport
{
    private readonly EtcdClient _client;
    private readonly EtcdKeys _keys;
    private readonly EtcdOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<long, byte> _leases = new();
    private readonly ConcurrentDictionary<EtcdWatch, byte> _watches = new();
    private int _disposed;

    public EtcdRegistryTransport(ServiceUrl registryUrl, EtcdOptions options, TimeProvider timeProvider, ILogger logger)
    {
        _options = options;
        _timeProvider = timeProvider;
        _logger = logger;
        string path = registryUrl.Path.Trim('/');
        _keys = new EtcdKeys(path.Length == 0 ? options.Root : "/" + path);
        _client = new EtcdClient(registryUrl, options, timeProvider, logger);
    }

    internal EtcdKeys Keys => _keys;

    internal EtcdClient Client => _client;

    public async ValueTask<RegistrySession> OpenSessionAsync(TimeSpan ttl, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        long seconds = (long)Math.Ceiling(Math.Max(ttl.TotalSeconds, EtcdDefaults.MinSessionTtl.TotalSeconds));
        LeaseResponse granted = await _client.CallAsync(
            "lease/grant",
            new LeaseGrantRequest { Ttl = seconds },
            EtcdJsonContext.Default.LeaseGrantRequest,
            EtcdJsonContext.Default.LeaseResponse,
            cancellationToken).ConfigureAwait(false);
        if (granted.Id == 0 || granted.Ttl <= 0)
        {
            throw new RegistryTransportException("etcd answered 'lease/grant' without a lease id or TTL.");
        }

        _leases.TryAdd(granted.Id, 0);
        TimeSpan grantedTtl = TimeSpan.FromSeconds(granted.Ttl);
        Log.SessionOpened(_logger, granted.Id, grantedTtl);

        // etcd's own clients renew at a third of the TTL, so two heartbeats may be lost before the lease expires.
        return new RegistrySession(granted.Id.ToString(CultureInfo.InvariantCulture), grantedTtl, grantedTtl / 3);
    }

    public async ValueTask KeepAliveAsync(RegistrySession session, CancellationToken cancellationToken)
    {
        long lease = ParseId(session);
        LeaseKeepAliveLine answer = await _client.CallAsync(
            "lease/keepalive",
            new LeaseIdRequest { Id = lease },
            EtcdJsonContext.Default.LeaseIdRequest,
            EtcdJsonContext.Default.LeaseKeepAliveLine,
            cancellationToken).ConfigureAwait(false);
        if (answer.Error is { } error)
        {
            throw EtcdErrors.FromStreamError("lease/keepalive", error);
        }

        // An expired or revoked lease is answered with HTTP 200 and no TTL.
        if (answer.Result is not { Ttl: > 0 })
        {
            _leases.TryRemove(lease, out _);
            throw new RegistrySessionLostException(
                string.Create(CultureInfo.InvariantCulture, $"etcd no longer knows the lease {lease}: it expired or was revoked."));
        }
    }

    public async ValueTask CloseSessionAsync(RegistrySession session, CancellationToken cancellationToken)
    {
        long lease = ParseId(session);
        await RevokeAsync(lease, cancellationToken).ConfigureAwait(false);
        _leases.TryRemove(lease, out _);
    }

    public async ValueTask RegisterAsync(RegistrySession session, ServiceUrl url, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(url);
        long lease = ParseId(session);
        byte[] key = _keys.KeyOf(url);
        byte[] value = Encoding.UTF8.GetBytes(url.ToFullString());

        // Create the key only if it is absent, so that a retried registration does not rewrite it (and wake every watcher).
        var put = new PutRequest { Key = key, Value = value, Lease = lease };
        TxnResponse created = await _client.CallAsync(
            "kv/txn",
            new TxnRequest
            {
                Compare = [new Compare { Target = "CREATE", Result = "EQUAL", Key = key, CreateRevision = 0 }],
                Success = [new RequestOp { RequestPut = put }],
                Failure = [new RequestOp { RequestRange = new RangeRequest { Key = key } }],
            },
            EtcdJsonContext.Default.TxnRequest,
            EtcdJsonContext.Default.TxnResponse,
            cancellationToken).ConfigureAwait(false);
        if (created.Succeeded)
        {
            return;
        }

        KeyValue? existing = created.Responses?.FirstOrDefault()?.ResponseRange?.Kvs?.FirstOrDefault();
        if (existing is not null && existing.Lease == lease && existing.Value.AsSpan().SequenceEqual(value))
        {
            return;
        }

        // The key belongs to another lease (an earlier session of ours that has not expired yet): move it to this one.
        await _client.CallAsync("kv/put", put, EtcdJsonContext.Default.PutRequest, EtcdJsonContext.Default.HeaderResponse, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask UnregisterAsync(RegistrySession session, ServiceUrl url, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(url);
        long lease = ParseId(session);
        byte[] key = _keys.KeyOf(url);

        // Delete the key only while it is on this session's lease: a newer session (this process's after a lost one,
        // or a restarted process on the same address) may have taken it over, and a late unregister of the older one
        // must not remove that registration. A key already gone compares unequal too, and nothing happens.
        await _client.CallAsync(
            "kv/txn",
            new TxnRequest
            {
                Compare = [new Compare { Target = "LEASE", Result = "EQUAL", Key = key, Lease = lease }],
                Success = [new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = key } }],
                Failure = [],
            },
            EtcdJsonContext.Default.TxnRequest,
            EtcdJsonContext.Default.TxnResponse,
            cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<IAsyncDisposable> WatchAsync(ServiceUrl subscription, ITransportWatcher watcher, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        ArgumentNullException.ThrowIfNull(watcher);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        EtcdWatch watch = await EtcdWatch.StartAsync(_client, _keys.PrefixOf(subscription), watcher, _timeProvider, _logger, cancellationToken).ConfigureAwait(false);
        _watches.TryAdd(watch, 0);

        // Disposal may have begun while listing, and missed this watch: it must not outlive the transport.
        if (Volatile.Read(ref _disposed) != 0)
        {
            _watches.TryRemove(watch, out _);
            await watch.DisposeAsync().ConfigureAwait(false);
            throw new ObjectDisposedException(nameof(EtcdRegistryTransport), "The etcd transport was disposed while the watch was being set up.");
        }

        return new WatchHandle(this, watch);
    }

    public async ValueTask<TransportSnapshot> LookupAsync(ServiceUrl subscription, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        RangeResponse listed = await _client.RangePrefixAsync(_keys.PrefixOf(subscription), cancellationToken).ConfigureAwait(false);
        return new TransportSnapshot(
            listed.Header?.Revision ?? 0,
            [.. (listed.Kvs ?? []).Select(kv => Encoding.UTF8.GetString(kv.Value ?? []))]);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (EtcdWatch watch in _watches.Keys)
        {
            await watch.DisposeAsync().ConfigureAwait(false);
        }

        // Revoke what is still open, so its keys go now rather than at the TTL; bounded by one call timeout overall.
        using var bound = new CancellationTokenSource(_options.CallTimeout, _timeProvider);
        foreach (long lease in _leases.Keys)
        {
            try
            {
                await RevokeAsync(lease, bound.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is RegistryTransportException or OperationCanceledException)
            {
                Log.RevokeOnDisposeFailed(_logger, lease, e.Message);
            }
        }

        _leases.Clear();
        _client.Dispose();
    }

    private async Task RevokeAsync(long lease, CancellationToken cancellationToken)
    {
        try
        {
            await _client.CallAsync(
                "lease/revoke",
                new LeaseIdRequest { Id = lease },
                EtcdJsonContext.Default.LeaseIdRequest,
                EtcdJsonContext.Default.HeaderResponse,
                cancellationToken).ConfigureAwait(false);
        }
        catch (RegistrySessionLostException)
        {
            // Already gone (404 code 5): closing a closed session changes nothing.
        }
    }

    private static long ParseId(RegistrySession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        return long.TryParse(session.Id, NumberStyles.None, CultureInfo.InvariantCulture, out long id) && id != 0
            ? id
            : throw new RegistrySessionLostException($"'{session.Id}' is not an etcd lease id.");
    }

    private sealed class WatchHandle(EtcdRegistryTransport owner, EtcdWatch watch) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            owner._watches.TryRemove(watch, out _);
            return watch.DisposeAsync();
        }
    }
}
