using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace RegistryKit.Samples.CustomTransport.Master;

/// <summary>
/// A small master over HTTP (an ASP.NET Core minimal API on Kestrel, loopback only): a registry with sessions, entries,
/// revisions and watches (<see cref="MasterStore"/>), and a worker table with heartbeats and health reports
/// (<see cref="WorkerTable"/>). The protocol is in <see cref="MasterProtocol"/>.
/// </summary>
internal sealed class MasterServer : IAsyncDisposable
{
    private const int MaxIdLength = 256;
    private static readonly byte[] s_newLine = "\n"u8.ToArray();

    private readonly WebApplication _app;
    private readonly MasterServerOptions _options;

    private MasterServer(WebApplication app, MasterServerOptions options, MasterStore store, WorkerTable workers)
    {
        _app = app;
        _options = options;
        Store = store;
        Workers = workers;
    }

    /// <summary>Gets the registry.</summary>
    public MasterStore Store { get; }

    /// <summary>Gets the workers.</summary>
    public WorkerTable Workers { get; }

    /// <summary>Gets the address the master listens on, such as <c>http://127.0.0.1:41234</c> (no trailing slash).</summary>
    public string Address { get; private set; } = "";

    /// <summary>Gets the port the master listens on.</summary>
    public int Port => new Uri(Address).Port;

    /// <summary>Starts a master on loopback.</summary>
    /// <param name="options">The settings; <see langword="null"/> for the defaults (a free port).</param>
    /// <param name="timeProvider">The clock sessions and workers age by; <see langword="null"/> for the system clock.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running master.</returns>
    public static async Task<MasterServer> StartAsync(MasterServerOptions? options = null, TimeProvider? timeProvider = null, CancellationToken cancellationToken = default)
    {
        options ??= new MasterServerOptions();
        options.Validate();
        timeProvider ??= TimeProvider.System;

        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, options.Port);
            kestrel.Limits.MaxRequestBodySize = 1 << 20;
        });
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(5));
        WebApplication app = builder.Build();

        var server = new MasterServer(app, options, new MasterStore(timeProvider, options), new WorkerTable(timeProvider, options));
        server.MapRegistry();
        server.MapWorkers();
        await app.StartAsync(cancellationToken);
        server.Address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        return server;
    }

    /// <summary>Forgets every session, entry and worker, and ends every watch, as a master restarted without persistent state.</summary>
    public void Restart()
    {
        Store.Restart();
        Workers.Clear();
    }

    /// <summary>Ends the watches, then stops Kestrel.</summary>
    public async ValueTask DisposeAsync()
    {
        // The watches first: a streaming response would otherwise hold Kestrel's shutdown for its whole timeout.
        Store.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private void MapRegistry()
    {
        _app.MapPost("/v1/sessions", async (HttpContext http) =>
        {
            SessionRequest? request = await ReadAsync<SessionRequest>(http);
            if (request is null || request.TtlMs <= 0)
            {
                return Error(400, MasterProtocol.BadRequest, "The body must be {\"ttlMs\": a positive number of milliseconds}.");
            }

            SessionGrant? grant = Store.Grant(TimeSpan.FromMilliseconds(Math.Min(request.TtlMs, (long)TimeSpan.FromDays(1).TotalMilliseconds)));
            return grant is null ? Error(507, MasterProtocol.Full, "The master holds as many sessions as it may.") : Results.Ok(grant);
        });

        _app.MapPost("/v1/sessions/{id}/keepalive", (string id) =>
            Store.KeepAlive(id) ? Results.NoContent() : Error(404, MasterProtocol.SessionUnknown, $"The master does not know session '{Cut(id)}'."));

        _app.MapDelete("/v1/sessions/{id}", (string id) =>
        {
            Store.Revoke(id);
            return Results.NoContent();
        });

        _app.MapPut("/v1/entries", async (HttpContext http) =>
        {
            PutRequest? request = await ReadAsync<PutRequest>(http);
            if (request is null)
            {
                return Error(400, MasterProtocol.BadRequest, "The body must be {\"session\": …, \"key\": …, \"value\": …}.");
            }

            return Store.Put(request.Session, request.Key, request.Value) switch
            {
                MasterStore.PutOutcome.Stored => Results.NoContent(),
                MasterStore.PutOutcome.SessionUnknown => Error(404, MasterProtocol.SessionUnknown, $"The master does not know session '{Cut(request.Session)}'."),
                MasterStore.PutOutcome.Full => Error(507, MasterProtocol.Full, "The master holds as many entries as it may."),
                _ => Error(413, MasterProtocol.TooLarge, $"A key must have 1 to {_options.MaxLength} characters, and a value at most {_options.MaxLength}."),
            };
        });

        _app.MapDelete("/v1/entries", (string key, string session) =>
        {
            Store.Delete(key, session);
            return Results.NoContent();
        });

        _app.MapGet("/v1/entries", (string? prefix) => Results.Ok(Store.Range(prefix ?? "")));

        _app.MapGet("/v1/watch", async (HttpContext http, string? prefix) =>
        {
            using MasterStore.StoreWatch? watch = Store.Watch(prefix ?? "");
            if (watch is null)
            {
                await Error(507, MasterProtocol.Full, "The master holds as many watches as it may.").ExecuteAsync(http);
                return;
            }

            http.Response.ContentType = MasterProtocol.NdjsonContentType;
            try
            {
                // One line per snapshot, flushed at once; the stream ends when the master restarts or stops.
                await foreach (SnapshotMessage snapshot in watch.Snapshots.ReadAllAsync(http.RequestAborted))
                {
                    await JsonSerializer.SerializeAsync(http.Response.Body, snapshot, MasterJson.Options, http.RequestAborted);
                    await http.Response.Body.WriteAsync(s_newLine, http.RequestAborted);
                    await http.Response.Body.FlushAsync(http.RequestAborted);
                }
            }
            catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
            {
                // The client went away.
            }
        });
    }

    private void MapWorkers()
    {
        _app.MapPost("/v1/workers/{id}/register", (string id) =>
            IsValidId(id) ? Results.Ok(new StatusMessage(Workers.Register(id))) : BadWorkerId());

        _app.MapPost("/v1/workers/{id}/heartbeat", async (HttpContext http, string id) =>
        {
            if (!IsValidId(id))
            {
                return BadWorkerId();
            }

            HeartbeatMessage? heartbeat = await ReadAsync<HeartbeatMessage>(http);
            return heartbeat is null
                ? Error(400, MasterProtocol.BadRequest, "The body must be {\"report\": a health report or null}.")
                : Results.Ok(new StatusMessage(Workers.Heartbeat(id, heartbeat.Report)));
        });

        _app.MapGet("/v1/workers", () => Results.Ok(Workers.Snapshot()));
    }

    private static async Task<T?> ReadAsync<T>(HttpContext http)
        where T : class
    {
        try
        {
            return await http.Request.ReadFromJsonAsync<T>(MasterJson.Options, http.RequestAborted);
        }
        catch (JsonException)
        {
            return null;
        }
        catch (InvalidOperationException)
        {
            // Not JSON (no or another content type).
            return null;
        }
    }

    private static bool IsValidId(string id) => id.Length is > 0 and <= MaxIdLength && !id.Any(char.IsControl);

    private static IResult BadWorkerId() =>
        Error(400, MasterProtocol.BadRequest, $"A worker id must have 1 to {MaxIdLength} characters and no control characters.");

    private static IResult Error(int status, string code, string message) => Results.Json(new ErrorMessage(code, message), MasterJson.Options, statusCode: status);

    /// <summary>Quotes at most 64 characters of what a client sent, so an answer cannot be made huge.</summary>
    private static string Cut(string value) => value.Length <= 64 ? value : value[..64] + "…";
}
