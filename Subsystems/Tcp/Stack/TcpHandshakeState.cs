using System.Runtime.InteropServices;
using BpfSim.Core.Simulation;

namespace BpfSim.Tcp.Stack;

/// <summary>
/// What only the handshake reads of a <see cref="TcpConnection"/> (<see cref="TcpConnection.Handshake"/>): the
/// connecting socket's SYN timeouts and the receiving host's request socket (struct request_sock). Kept in a struct
/// after the two ends' states, so that the lines every ACK and data segment read are not shared with it.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct TcpHandshakeState
{
    public long FirstSynUs;         // tp->retrans_stamp as tcp_connect sets it: when the first SYN left (µs)
    public long SynAckSentNs;
    public int TotalRto;            // tp->total_rto: SYN timeouts so far (the linear-timeout count)
    public uint SynAckTsVal;        // TSval of the SYN-ACK that established the sender: what its first ACK echoes
    public int ReqNumTimeout;       // req->num_timeout: request timer expiries
    public int ReqNumRetrans;       // req->num_retrans: SYN-ACKs sent again
    public uint ReqTsRecent;        // req->ts_recent: the TSval of the SYN that made the request (retransmitted SYNs leave it)
    public uint ReqLastOowJiffies;  // tcp_rsk(req)->last_oow_ack_time (0: none yet)
    public TimerId SynAckTimer;     // req->rsk_timer
    public bool RequestEcn;         // the sender asks for ECN in its SYN (tcp_ecn_send_syn: its algorithm needs ECN)
    public bool ReqOpen;            // the request socket exists: from the first SYN until the handshake completes

    /// <summary>Before connect(): no SYN sent yet.</summary>
    public TcpHandshakeState()
    {
        FirstSynUs = -1;
    }
}
