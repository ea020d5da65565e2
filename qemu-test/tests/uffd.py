# userfaultfd(2) from python3 (ctypes; x86-64 numbers), for 20-events's
# userfaultfd tests: put on node 1 as /tmp/uffd.py, beside the scripts
# that import it (python3 looks in a script's own directory first).
import ctypes
import os
import struct
import time

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
libc.ioctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p]
libc.memcpy.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int,
                      ctypes.c_int, ctypes.c_int, ctypes.c_long]

P = 4096
NR_USERFAULTFD = 323
UFFDIO_API = 0xc018aa3f
UFFDIO_REGISTER = 0xc020aa00
UFFDIO_COPY = 0xc028aa03
UFFDIO_WRITEPROTECT = 0xc018aa06
# Register modes; a fault message's event and write-protect flag.
MISSING, WP = 1, 2
PAGEFAULT, FLAG_WP = 0x12, 2


def where():
    return open('/proc/self/where').read().strip()


def gates(tag):
    """gate(name): waits for /tmp/TAG.name (the test's go-ahead)."""
    def gate(name):
        while not os.path.exists('/tmp/%s.%s' % (tag, name)):
            time.sleep(0.05)
    return gate


def ioctl(fd, req, data):
    b = ctypes.create_string_buffer(data, len(data))
    return libc.ioctl(fd, req, ctypes.addressof(b))


def userfaultfd(flags=os.O_CLOEXEC):
    """(its number or -1, UFFDIO_API's result): one made and set up."""
    u = libc.syscall(NR_USERFAULTFD, flags)
    if u < 0:
        return u, -1
    return u, ioctl(u, UFFDIO_API, struct.pack('QQQ', 0xAA, 0, 0))


def area(pages):
    """A private anonymous mapping of that many pages (its address)."""
    return libc.mmap(None, pages * P, 3, 0x22, -1, 0)


def register(u, base, pages, mode=MISSING):
    return ioctl(u, UFFDIO_REGISTER, struct.pack('QQQQ', base, pages * P, mode, 0))


_src = ctypes.create_string_buffer(P)


def fill(u, addr, byte):
    """UFFDIO_COPY of a page of BYTE at ADDR's page (one thread at a
    time): 0, or the errno (17, EEXIST: it is there already)."""
    ctypes.memset(_src, byte, P)
    req = struct.pack('QQQQq', addr & ~(P - 1), ctypes.addressof(_src), P, 0, 0)
    return ctypes.get_errno() if ioctl(u, UFFDIO_COPY, req) else 0


def protect(u, addr, pages, on):
    return ioctl(u, UFFDIO_WRITEPROTECT, struct.pack('QQQ', addr, pages * P, 1 if on else 0))


def fault(msg):
    """(event, flags, address) of a message read from a userfaultfd."""
    return (msg[0],) + struct.unpack_from('QQ', msg, 8)


def peek(addr, n=8):
    b = ctypes.create_string_buffer(n)
    libc.memcpy(ctypes.addressof(b), addr, n)
    return b.raw


def poke(addr, data):
    b = ctypes.create_string_buffer(data, len(data))
    libc.memcpy(addr, ctypes.addressof(b), len(data))
