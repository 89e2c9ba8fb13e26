import socket

# 创建套接字
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)

# 连接服务器
s.connect(('localhost', 8080))

# 发送数据
s.send(b'Hello, world!')

# 接收数据
data = s.recv(1024)

# 关闭连接
s.close()

print(data.decode())
