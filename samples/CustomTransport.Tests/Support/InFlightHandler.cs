namespace RegistryKit.Samples.CustomTransport.Tests.Support;

/// <summary>Counts the HTTP calls in flight, so a test moves virtual time only while no call is waiting for its answer.</summary>
internal sealed class InFlightHandler : DelegatingHandler
{
    private int _inFlight;

    public InFlightHandler()
        : base(new SocketsHttpHandler())
    {
    }

    public int InFlight => Volatile.Read(ref _inFlight);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _inFlight);
        try
        {
            return await base.SendAsync(request, cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }
}
