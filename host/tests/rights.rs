//! Descriptors passed over a socket served at home (SCM_RIGHTS): the
//! control data read and written where the process runs, and the
//! request and answer that carry them.

use vproc_logic::mig::rights::*;
use vproc_logic::mig::{Reader, Writer};

fn cmsg(level: i32, kind: i32, fds: &[i32]) -> Vec<u8> {
    let mut b = vec![0u8; cmsg_space(fds.len())];
    b[..8].copy_from_slice(&(cmsg_len(fds.len()) as u64).to_le_bytes());
    b[8..12].copy_from_slice(&level.to_le_bytes());
    b[12..16].copy_from_slice(&kind.to_le_bytes());
    for (i, fd) in fds.iter().enumerate() {
        b[16 + 4 * i..20 + 4 * i].copy_from_slice(&fd.to_le_bytes());
    }
    b
}

#[test]
fn rights_in_reads_every_scm_rights_message() {
    let mut out = [0i32; SCM_MAX_FD];
    // One message of 3 (space 32: padded), then one of 1.
    let mut ctl = cmsg(SOL_SOCKET, SCM_RIGHTS, &[5, 6, 7]);
    assert_eq!(ctl.len(), 32);
    ctl.extend(cmsg(SOL_SOCKET, SCM_RIGHTS, &[9]));
    assert_eq!(rights_in(&ctl, &mut out), Ok(4));
    assert_eq!(&out[..4], &[5, 6, 7, 9]);
    // Nothing, or less than a header: none.
    assert_eq!(rights_in(&[], &mut out), Ok(0));
    assert_eq!(rights_in(&[0u8; 15], &mut out), Ok(0));
    // A last message without its padding is whole.
    let one = cmsg(SOL_SOCKET, SCM_RIGHTS, &[3]);
    assert_eq!(rights_in(&one[..20], &mut out), Ok(1));
}

#[test]
fn rights_in_refuses_what_the_kernel_or_home_would() {
    let mut out = [0i32; SCM_MAX_FD];
    // A length past the buffer, or shorter than the header.
    let mut bad = cmsg(SOL_SOCKET, SCM_RIGHTS, &[1, 2]);
    bad[..8].copy_from_slice(&100u64.to_le_bytes());
    assert_eq!(rights_in(&bad, &mut out), Err(22));
    bad[..8].copy_from_slice(&8u64.to_le_bytes());
    assert_eq!(rights_in(&bad, &mut out), Err(22));
    bad[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    assert_eq!(rights_in(&bad, &mut out), Err(22));
    // Credentials (SCM_CREDENTIALS, 2), another level: not carried.
    assert_eq!(
        rights_in(&cmsg(SOL_SOCKET, 2, &[1, 2, 3]), &mut out),
        Err(95)
    );
    assert_eq!(rights_in(&cmsg(41, 1, &[1]), &mut out), Err(95));
    // More than SCM_MAX_FD in all.
    let many: Vec<i32> = (0..200).collect();
    let mut ctl = cmsg(SOL_SOCKET, SCM_RIGHTS, &many);
    ctl.extend(cmsg(SOL_SOCKET, SCM_RIGHTS, &many[..53]));
    assert_eq!(rights_in(&ctl, &mut out), Ok(253));
    ctl.extend(cmsg(SOL_SOCKET, SCM_RIGHTS, &[1]));
    assert_eq!(rights_in(&ctl, &mut out), Err(22));
}

#[test]
fn rights_out_writes_what_the_kernel_would() {
    let mut b = [0xaau8; 64];
    assert_eq!(rights_out(&[4, 8, 15], &mut b), Some(32));
    let mut out = [0i32; SCM_MAX_FD];
    assert_eq!(rights_in(&b[..32], &mut out), Ok(3));
    assert_eq!(&out[..3], &[4, 8, 15]);
    // Room for the message but not its padding: the room.
    let mut b = [0u8; 28];
    assert_eq!(rights_out(&[4, 8, 15], &mut b), Some(28));
    // No descriptor, no room for them: nothing.
    assert_eq!(rights_out(&[], &mut [0u8; 64]), None);
    assert_eq!(rights_out(&[1], &mut [0u8; 19]), None);
    // The room a recvmsg's control buffer gives.
    assert_eq!(fds_room(0), 0);
    assert_eq!(fds_room(16), 0);
    assert_eq!(fds_room(24), 2);
    assert_eq!(fds_room(1 << 20), SCM_MAX_FD);
}

fn call_bytes(c: &MsgCall<'_>) -> Vec<u8> {
    let mut b = vec![0u8; 64 + c.name.len() + c.fds.len() + c.data.len()];
    let n = {
        let mut w = Writer::new(&mut b);
        write_msg_call(&mut w, c).unwrap();
        w.len()
    };
    b.truncate(n);
    b
}

#[test]
fn msg_call_round_trips_and_is_checked() {
    let fds: Vec<u8> = [7i32, 9].iter().flat_map(|f| f.to_le_bytes()).collect();
    let send = MsgCall {
        send: true,
        flags: 0x4000,
        fd: 3,
        name: b"\x01\x00/tmp/s",
        name_room: 0,
        fds: &fds,
        fds_room: 0,
        data: b"hello",
        data_room: 0,
    };
    let b = call_bytes(&send);
    assert_eq!(read_msg_call(&mut Reader::new(&b)).unwrap(), send);
    let recv = MsgCall {
        send: false,
        flags: 0,
        fd: 4,
        name: &[],
        name_room: 110,
        fds: &[],
        fds_room: 2,
        data: &[],
        data_room: 4096,
    };
    let b = call_bytes(&recv);
    assert_eq!(read_msg_call(&mut Reader::new(&b)).unwrap(), recv);
    // Trailing bytes, a bad kind, rooms past the limits, a bad fd.
    let mut t = call_bytes(&recv);
    t.push(0);
    assert!(read_msg_call(&mut Reader::new(&t)).is_err());
    let mut k = call_bytes(&recv);
    k[0] = 2;
    assert!(read_msg_call(&mut Reader::new(&k)).is_err());
    for bad in [
        MsgCall {
            fds_room: SCM_MAX_FD as u32 + 1,
            ..recv
        },
        MsgCall {
            data_room: DATA_MAX + 1,
            ..recv
        },
        MsgCall {
            name_room: NAME_MAX + 1,
            ..recv
        },
        MsgCall { fd: -1, ..recv },
    ] {
        assert!(read_msg_call(&mut Reader::new(&call_bytes(&bad))).is_err());
    }
    // A send whose counts promise more than it carries.
    let mut short = call_bytes(&send);
    short.truncate(short.len() - 1);
    assert!(read_msg_call(&mut Reader::new(&short)).is_err());
}

#[test]
fn msg_reply_round_trips_and_is_checked() {
    let recv = MsgCall {
        send: false,
        flags: 0,
        fd: 4,
        name: &[],
        name_room: 16,
        fds: &[],
        fds_room: 2,
        data: &[],
        data_room: 8,
    };
    let fds: Vec<u8> = [(11i32, 2u32), (12, 0o4002)]
        .iter()
        .flat_map(|(f, g)| [f.to_le_bytes(), g.to_le_bytes()].concat())
        .collect();
    let m = MsgReply {
        flags: 8,
        name: b"\x01\x00",
        fds: &fds,
        data: b"abc",
    };
    let mut b = vec![0u8; 256];
    let n = {
        let mut w = Writer::new(&mut b);
        write_msg_reply(&mut w, &m).unwrap();
        w.len()
    };
    let got = read_msg_reply(&mut Reader::new(&b[..n]), &recv, 3).unwrap();
    assert_eq!(got, m);
    assert_eq!(
        (got.nfds(), got.fd(1), got.fd(2)),
        (2, Some((12, 0o4002)), None)
    );
    // A datagram cut to the room (MSG_TRUNC: the value is its length).
    let cut = MsgReply { data: &[0; 8], ..m };
    let n = {
        let mut w = Writer::new(&mut b);
        write_msg_reply(&mut w, &cut).unwrap();
        w.len()
    };
    assert!(read_msg_reply(&mut Reader::new(&b[..n]), &recv, 100).is_ok());
    // More descriptors or name than asked room for, data that disagrees
    // with the value.
    let narrow = MsgCall {
        fds_room: 1,
        ..recv
    };
    let n = {
        let mut w = Writer::new(&mut b);
        write_msg_reply(&mut w, &m).unwrap();
        w.len()
    };
    assert!(read_msg_reply(&mut Reader::new(&b[..n]), &narrow, 3).is_err());
    let noname = MsgCall {
        name_room: 1,
        ..recv
    };
    assert!(read_msg_reply(&mut Reader::new(&b[..n]), &noname, 3).is_err());
    assert!(read_msg_reply(&mut Reader::new(&b[..n]), &recv, 4).is_err());
    assert!(read_msg_reply(&mut Reader::new(&b[..n]), &recv, -1).is_err());
}
