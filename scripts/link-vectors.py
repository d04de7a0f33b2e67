#!/usr/bin/env python3
"""An independent encoder of the lane link's frame format 2 (docs/link-protocol.md).

Written from the document alone, with the `cryptography` package's X25519
and ChaCha20-Poly1305, hashlib and hmac: it prints the test vectors of
section 8, which Tests/LinkCoreTests/LinkVectorTests.swift checks against
the Swift implementation. Run: python3 scripts/link-vectors.py
"""
import hashlib, hmac, struct
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives import serialization

RAW = serialization.Encoding.Raw, serialization.PublicFormat.Raw

def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF

def cobs(data):
    out, block = bytearray(), bytearray()
    for b in data:
        if b == 0:
            out.append(len(block) + 1); out += block; block = bytearray()
        else:
            block.append(b)
            if len(block) == 254:
                out.append(255); out += block; block = bytearray()
    out.append(len(block) + 1); out += block
    return bytes(out)

def aead(key, n, ad, plaintext):
    return ChaCha20Poly1305(key).encrypt(b"\0\0\0\0" + struct.pack("<Q", n), plaintext, ad)

def hkdf(ck, ikm, n):
    temp = hmac.new(ck, ikm, hashlib.sha256).digest()
    out, prev = [], b""
    for i in range(1, n + 1):
        prev = hmac.new(temp, prev + bytes([i]), hashlib.sha256).digest()
        out.append(prev)
    return out

class Symmetric:
    def __init__(self, prologue):
        self.h = hashlib.sha256(b"Noise_NNpsk0_25519_ChaChaPoly_SHA256").digest()
        self.ck, self.k, self.n = self.h, None, 0
        self.mix_hash(prologue)
    def mix_hash(self, data): self.h = hashlib.sha256(self.h + data).digest()
    def mix_key(self, ikm): self.ck, self.k = hkdf(self.ck, ikm, 2); self.n = 0
    def mix_key_and_hash(self, ikm):
        self.ck, th, self.k = hkdf(self.ck, ikm, 3); self.mix_hash(th); self.n = 0
    def encrypt_and_hash(self, p):
        c = aead(self.k, self.n, self.h, p); self.n += 1; self.mix_hash(c); return c
    def split(self): return hkdf(self.ck, b"", 2)

def public(private):
    return X25519PrivateKey.from_private_bytes(private).public_key().public_bytes(*RAW)

def dh(private, public_bytes):
    return X25519PrivateKey.from_private_bytes(private).exchange(X25519PublicKey.from_public_bytes(public_bytes))

def header(kind, central_to_lane, lane, counter, body_len):
    return bytes([2, kind, 1 if central_to_lane else 0, len(lane)]) + lane + struct.pack(">QH", counter, body_len)

def wire(head, body):
    frame = head + body
    frame += struct.pack(">I", crc32c(frame))
    return b"\0" + cobs(frame) + b"\0"

def inner(kind, seq, msg_id, payload):
    return bytes([kind]) + struct.pack(">IQ", seq, msg_id) + payload

lane = b"LMC-IN-03"
psk = bytes(range(32))
e_lane = bytes(range(0x20, 0x40))
e_central = bytes(range(0x40, 0x60))
hello_counter = 1748736000000000
prologue = b"lanekiosk-link/2" + bytes([len(lane)]) + lane
hello_payload = bytes([1]) + struct.pack(">H", 1) + bytes([len(lane)]) + lane + bytes([0])
welcome_payload = struct.pack(">H", 1) + bytes([0])
arrival_payload = bytes([0x11, 6]) + b"AB1234" + struct.pack(">q", 1748736000000000)

# Message 1: -> psk, e
lane_side = Symmetric(prologue)
lane_side.mix_key_and_hash(psk)
e_pub = public(e_lane)
lane_side.mix_hash(e_pub); lane_side.mix_key(e_pub)
msg1 = e_pub + lane_side.encrypt_and_hash(struct.pack(">Q", hello_counter) + inner(1, 1, 0, hello_payload))
hello_wire = wire(header(1, False, lane, 0, len(msg1)), msg1)

# Message 2: <- e, ee (central's side, continuing the same transcript)
central_side = lane_side  # both sides hold the same state after message 1
re_pub = public(e_central)
central_side.mix_hash(re_pub); central_side.mix_key(re_pub)
central_side.mix_key(dh(e_central, e_pub))
msg2 = re_pub + central_side.encrypt_and_hash(inner(2, 1, 0, welcome_payload))
welcome_wire = wire(header(2, True, lane, 0, len(msg2)), msg2)
k_lane_to_central, k_central_to_lane = central_side.split()

def transport(key, kind, central_to_lane, counter, seq, msg_id, payload):
    plain = inner(kind, seq, msg_id, payload)
    head = header(kind, central_to_lane, lane, counter, len(plain) + 16)
    return wire(head, aead(key, counter, head, plain))

heartbeat_wire = transport(k_lane_to_central, 6, False, 0, 2, 0, b"")
data_wire = transport(k_lane_to_central, 4, False, 1, 3, 1, arrival_payload)
ack_wire = transport(k_central_to_lane, 5, True, 0, 2, 0, struct.pack(">HQ", 1, 1))

for name, value in [("handshake hash", central_side.h), ("lane to central key", k_lane_to_central),
                    ("central to lane key", k_central_to_lane), ("hello", hello_wire),
                    ("welcome", welcome_wire), ("heartbeat", heartbeat_wire),
                    ("data", data_wire), ("ack", ack_wire)]:
    print(f"{name}: {value.hex()}")
