using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using RegistryKit.Etcd;
using RegistryKit.Transport;

namespace RegistryKit.Samples.Quickstart;

/// <summary>
/// A real etcd, reached through a <see cref="TcpRelay"/>. Its outage: the clients' connections are cut for longer than
/// a session lives, so etcd expires their leases and forgets the providers, as a registry that lost its state does.
/// The story's keys live under a root of their own, so runs never see each other.
/// </summary>
internal sealed class EtcdQuickstartRegistry : IQuickstartRegistry
{
    private readonly Uri _etcd;
    private readonly string _root = "/registrykit-quickstart/" + Guid.NewGuid().ToString("N");
    private readonly TcpRelay _relay;
    private readonly HttpClient _direct;

    public EtcdQuickstartRegistry(Uri etcd, TimeProvider time, ILoggerFactory? loggerFactory = null)
    {
        _etcd = etcd;
        _relay = new TcpRelay(new DnsEndPoint(etcd.Host, etcd.Port), time);
        _direct = new HttpClient { BaseAddress = etcd, Timeout = TimeSpan.FromSeconds(5) };
        Address = ServiceUrl.Parse($"etcd://127.0.0.1:{_relay.Port}{_root}?application=quickstart"); // the path is the key root
        Transports = [new(EtcdRegistryTransportFactory.Scheme, new EtcdRegistryTransportFactory(timeProvider: time, loggerFactory: loggerFactory))];
    }

    public ServiceUrl Address { get; }

    /// <summary>Returns why etcd at <paramref name="etcd"/> cannot be used, or null when its gateway answers.</summary>
    public static async Task<string?> ProbeAsync(Uri etcd, CancellationToken cancellationToken)
    {
        using var client = new HttpClient { BaseAddress = etcd, Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            using HttpResponseMessage response = await client.GetAsync("version", cancellationToken);
            return response.IsSuccessStatusCode ? null : $"etcd at {etcd} answered /version with {(int)response.StatusCode}.";
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return $"etcd at {etcd} did not answer ({e.Message}). Start one (for example 'etcd' with its defaults listens on http://127.0.0.1:2379) or point --etcd at it.";
        }
    }

    public IReadOnlyList<KeyValuePair<string, IRegistryTransportFactory>> Transports { get; }

    public TimeSpan OutageFor(QuickstartTimings timings) => timings.Outage + timings.SessionTtl;

    public string BeginOutage(TimeSpan outage)
    {
        _relay.Stop(outage);
        return $"connections to etcd at {_etcd.Authority} cut for {outage.TotalSeconds:0.#} s, longer than a session lives: etcd expires the leases";
    }

    /// <summary>Asks etcd itself, past the relay, for the keys under the story's root.</summary>
    public async ValueTask<int> CountProvidersAsync(CancellationToken cancellationToken)
    {
        byte[] prefix = Encoding.UTF8.GetBytes(_root + "/");
        byte[] end = [.. prefix[..^1], (byte)(prefix[^1] + 1)]; // '/' + 1: every key that starts with the prefix
        using HttpResponseMessage response = await _direct.PostAsJsonAsync(
            "v3/kv/range",
            new Dictionary<string, object> { ["key"] = Convert.ToBase64String(prefix), ["range_end"] = Convert.ToBase64String(end), ["keys_only"] = true },
            cancellationToken);
        response.EnsureSuccessStatusCode();
        using JsonDocument body = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
        if (!body.RootElement.TryGetProperty("kvs", out JsonElement kvs))
        {
            return 0; // etcd leaves the field out when nothing matches
        }

        return kvs.EnumerateArray().Count(kv => Encoding.UTF8.GetString(kv.GetProperty("key").GetBytesFromBase64()).Contains("/providers/", StringComparison.Ordinal));
    }

    public async ValueTask DisposeAsync()
    {
        _direct.Dispose();
        await _relay.DisposeAsync();
    }
}
